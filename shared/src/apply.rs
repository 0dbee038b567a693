//! New certificate (证书新办) on the wire: the catalogue, the 7-step wizard's drafts (seed
//! 004 §3.1), submission, staff review with a reason per field, and issuance for a CSR with
//! the acceptance number and the download authorization code (seed 002).

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::FieldError;
use crate::Named;
use crate::certificate::CertificateProfile;
use crate::validate::{CreditCode, Email, IdCardNumber, IdDocument, Mobile, OrgName, PersonName, ValidationError};

/// Where the certificate's key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Medium {
    /// UKey (USB key)
    Ukey,
    /// PC 软盾
    PcShield,
    /// 移动软盾
    MobileShield,
}

impl Medium {
    pub const ALL: [Medium; 3] = [Medium::Ukey, Medium::PcShield, Medium::MobileShield];
    /// The medium a token the agent sees is (a mobile shield lives in its phone app, never
    /// behind the agent).
    pub fn of_token(kind: crate::agent::TokenKind) -> Medium {
        match kind {
            crate::agent::TokenKind::Ukey => Medium::Ukey,
            crate::agent::TokenKind::PcShield => Medium::PcShield,
        }
    }
}

/// How a customer pays: scan a QR code per application, or the enterprise's monthly
/// statement (大客户统一结算), which skips step ⑥.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BillingMode {
    ScanToPay,
    Settlement,
}

impl BillingMode {
    pub const ALL: [BillingMode; 2] = [BillingMode::ScanToPay, BillingMode::Settlement];
}

/// A document the wizard's step ③ asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DocumentKind {
    /// 营业执照（副本）
    BusinessLicence,
    /// 经办人身份证件
    OperatorId,
    /// 其他资料 (the agreement with seal, signature samples …), packed as zip or rar.
    Other,
    /// 注销申请表, signed (证书注销).
    RevocationForm,
    /// 证书持有人身份证件 (证书注销).
    HolderId,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::BusinessLicence,
        DocumentKind::OperatorId,
        DocumentKind::Other,
        DocumentKind::RevocationForm,
        DocumentKind::HolderId,
    ];
    /// The documents a certificate type may require of a 新办 (the catalogue's choice).
    pub const FOR_APPLY: [DocumentKind; 3] =
        [DocumentKind::BusinessLicence, DocumentKind::OperatorId, DocumentKind::Other];
    /// Archives for "other", pictures or PDF for the rest.
    pub fn accepts(self, f: FileType) -> bool {
        match self {
            DocumentKind::Other => matches!(f, FileType::Zip | FileType::Rar),
            _ => !matches!(f, FileType::Zip | FileType::Rar),
        }
    }
}

/// Largest document, as the seed says (大小不超过2M).
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;

/// File types by their content (magic numbers), never by their name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FileType {
    Jpeg,
    Png,
    Gif,
    Bmp,
    Pdf,
    Zip,
    Rar,
}

impl FileType {
    /// What the bytes are, whatever the file is called.
    pub fn sniff(bytes: &[u8]) -> Option<FileType> {
        let starts = |m: &[u8]| bytes.starts_with(m);
        Some(if starts(&[0xFF, 0xD8, 0xFF]) {
            FileType::Jpeg
        } else if starts(b"\x89PNG\r\n\x1a\n") {
            FileType::Png
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            FileType::Gif
        } else if starts(b"BM") && bytes.len() > 14 {
            FileType::Bmp
        } else if starts(b"%PDF-") {
            FileType::Pdf
        } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
            FileType::Zip
        } else if starts(b"Rar!\x1a\x07") {
            FileType::Rar
        } else {
            return None;
        })
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Gif => "image/gif",
            FileType::Bmp => "image/bmp",
            FileType::Pdf => "application/pdf",
            FileType::Zip => "application/zip",
            FileType::Rar => "application/vnd.rar",
        }
    }
}

/// Checks an upload: size, then content. The browser runs it before sending; the server
/// runs it again.
pub fn check_document(kind: DocumentKind, bytes: &[u8]) -> Result<FileType, ValidationError> {
    if bytes.is_empty() {
        return Err(ValidationError::Required);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ValidationError::FileTooLarge);
    }
    match FileType::sniff(bytes) {
        Some(t) if kind.accepts(t) => Ok(t),
        _ => Err(ValidationError::FileType),
    }
}

/// One validity period on sale: "一年（金额：300元）".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ValidityOption {
    pub id: String,
    pub years: u32,
    /// In fen (0.01 yuan).
    pub price_fen: i64,
}

/// A certificate type of a project (机构证书, 法人证书, 个人证书 …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificateType {
    pub id: String,
    pub name: String,
    /// What the CA issues for it; fixed when the type is made.
    pub profile: CertificateProfile,
    pub media: Vec<Medium>,
    pub validity: Vec<ValidityOption>,
    pub documents: Vec<DocumentKind>,
    /// Renewals of this type go to staff review.
    #[serde(default)]
    pub renewal_review: bool,
    /// 补办价格: the price of a reissue (a new UKey and key pair), in fen.
    #[serde(default)]
    pub reissue_price_fen: i64,
}

/// A project (项目, e.g. "RA测试专用") and its types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Project {
    pub id: String,
    pub name: String,
    pub types: Vec<CertificateType>,
}

/// `GET /api/catalogue`: what this customer may apply for, and how they pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Catalogue {
    pub projects: Vec<Project>,
    pub billing: BillingMode,
}

/// Step ① 选择证书类型.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChooseType {
    pub project_id: String,
    pub type_id: String,
    pub medium: Medium,
}

/// Which holder a certificate type asks for in step ②, known from its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HolderKind {
    /// 机构证书: the unit.
    Organisation,
    /// 法人证书: the legal representative and the unit they represent.
    LegalPerson,
    /// 个人证书: a person.
    Person,
}

impl HolderKind {
    pub fn of(profile: CertificateProfile) -> HolderKind {
        match profile {
            CertificateProfile::OrgSign | CertificateProfile::OrgEnc => HolderKind::Organisation,
            CertificateProfile::LegalSign | CertificateProfile::LegalEnc => HolderKind::LegalPerson,
            CertificateProfile::PersonalSign | CertificateProfile::PersonalEnc => HolderKind::Person,
        }
    }
}

/// Who the certificate is for (step ②), in the shape its type's profile asks for.
/// `{"kind": "person", "name": "李四", "id": {"type": "resident_id", "number": "…"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(target_arch = "wasm32", serde(try_from = "FlatHolder"))]
pub enum Holder {
    /// 单位名称（全称）and 统一社会信用代码.
    Organisation { org_name: OrgName, credit_code: CreditCode },
    /// 法定代表人 (name, identity document) and the unit.
    LegalPerson { name: PersonName, id: IdDocument, org_name: OrgName, credit_code: CreditCode },
    /// 姓名 and identity document.
    Person { name: PersonName, id: IdDocument },
}

/// [`Holder`] as the browser app reads it (`serde(try_from)` on wasm only): the same JSON
/// read as one flat object, then put together by `kind`. The derived reader of an internally
/// tagged enum first buffers every field until it has seen `kind` (serde's `Content`), code
/// that every bundle showing an application carried. The server keeps the derived reader,
/// whose errors name the field (`holder`) as the API's clients expect.
#[derive(Deserialize)]
pub struct FlatHolder {
    kind: HolderKind,
    org_name: Option<OrgName>,
    credit_code: Option<CreditCode>,
    name: Option<PersonName>,
    id: Option<IdDocument>,
}

impl TryFrom<FlatHolder> for Holder {
    type Error = &'static str;

    fn try_from(h: FlatHolder) -> Result<Holder, &'static str> {
        let missing = "a holder without a field its kind needs";
        Ok(match h.kind {
            HolderKind::Organisation => Holder::Organisation {
                org_name: h.org_name.ok_or(missing)?,
                credit_code: h.credit_code.ok_or(missing)?,
            },
            HolderKind::LegalPerson => Holder::LegalPerson {
                name: h.name.ok_or(missing)?,
                id: h.id.ok_or(missing)?,
                org_name: h.org_name.ok_or(missing)?,
                credit_code: h.credit_code.ok_or(missing)?,
            },
            HolderKind::Person => Holder::Person { name: h.name.ok_or(missing)?, id: h.id.ok_or(missing)? },
        })
    }
}

impl Holder {
    pub fn kind(&self) -> HolderKind {
        match self {
            Holder::Organisation { .. } => HolderKind::Organisation,
            Holder::LegalPerson { .. } => HolderKind::LegalPerson,
            Holder::Person { .. } => HolderKind::Person,
        }
    }

    /// The certificate's commonName: the unit's name, or the person's.
    pub fn common_name(&self) -> &str {
        match self {
            Holder::Organisation { org_name, .. } => org_name.as_str(),
            Holder::LegalPerson { name, .. } | Holder::Person { name, .. } => name.as_str(),
        }
    }

    /// The unit and its credit code, unless the holder is a person alone.
    pub fn organisation(&self) -> Option<(&OrgName, &CreditCode)> {
        match self {
            Holder::Organisation { org_name, credit_code } | Holder::LegalPerson { org_name, credit_code, .. } => {
                Some((org_name, credit_code))
            }
            Holder::Person { .. } => None,
        }
    }

    /// The person's identity document (legal representative or person).
    pub fn id(&self) -> Option<&IdDocument> {
        match self {
            Holder::Organisation { .. } => None,
            Holder::LegalPerson { id, .. } | Holder::Person { id, .. } => Some(id),
        }
    }
}

/// Step ② 填写证书信息.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificateInfo {
    pub holder: Holder,
    pub validity_id: String,
    /// The unit's e-mail (optional), or the person's (required for a 个人证书).
    #[serde(default)]
    pub email: Option<Email>,
    pub province: String,
    pub city: String,
}

impl CertificateInfo {
    /// What decoding cannot check: the names' lengths in a certificate, the e-mail a person
    /// must give, the region. Field names are the form's (`name`, `org_name`, `email` …).
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        // The unit's name becomes the subject's commonName or organizationName, each at most
        // 64 characters (RFC 5280 ub-common-name, ub-organization-name), although a
        // registered name may have up to 100. A person's name has at most 50 (`PersonName`).
        if let Some((org_name, _)) = self.holder.organisation()
            && org_name.as_str().chars().count() > crate::certificate::SUBJECT_NAME_MAX
        {
            e.push(FieldError { field: "org_name".into(), error: ValidationError::SubjectNameLength });
        }
        if self.holder.kind() == HolderKind::Person && self.email.is_none() {
            e.push(FieldError { field: "email".into(), error: ValidationError::Required });
        }
        if !crate::regions::REGIONS.iter().any(|(p, _)| *p == self.province) {
            e.push(FieldError { field: "province".into(), error: ValidationError::RegionUnknown });
        } else if !crate::regions::is_region(&self.province, &self.city) {
            e.push(FieldError { field: "city".into(), error: ValidationError::RegionUnknown });
        }
        e
    }

    /// [`check`](Self::check), and the holder the type's profile asks for.
    pub fn check_for(&self, profile: CertificateProfile) -> Vec<FieldError> {
        let mut e = self.check();
        if self.holder.kind() != HolderKind::of(profile) {
            e.insert(0, FieldError { field: "holder".into(), error: ValidationError::HolderKind });
        }
        e
    }
}

/// Step ④ 填写经办信息. The operator's ID type is the resident identity card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OperatorInfo {
    pub name: PersonName,
    pub id_number: IdCardNumber,
    pub mobile: Mobile,
    pub email: Email,
    #[serde(default)]
    pub unit_phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

impl OperatorInfo {
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        too_long(&mut e, "unit_phone", self.unit_phone.as_deref(), 30);
        too_long(&mut e, "address", self.address.as_deref(), 120);
        e
    }
}

fn too_long(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>, max: usize) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push(FieldError { field: field.into(), error: ValidationError::TooLong });
    }
}

/// How the UKey reaches the customer (step ⑤ 填写邮寄信息).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryMethod {
    /// 邮寄配送
    Post,
    /// 营业厅领取
    Counter,
}

/// Step ⑤ 填写邮寄信息.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DeliveryInfo {
    pub method: DeliveryMethod,
    #[serde(default)]
    pub recipient_company: Option<String>,
    #[serde(default)]
    pub recipient_name: Option<PersonName>,
    #[serde(default)]
    pub recipient_phone: Option<Mobile>,
    #[serde(default)]
    pub address: Option<String>,
    /// 货到付款 (the postage).
    #[serde(default)]
    pub cash_on_delivery: bool,
}

impl DeliveryInfo {
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.method == DeliveryMethod::Post {
            let mut need = |field: &str, ok: bool| {
                if !ok {
                    e.push(FieldError { field: field.into(), error: ValidationError::Required });
                }
            };
            need("recipient_name", self.recipient_name.is_some());
            need("recipient_phone", self.recipient_phone.is_some());
            need("address", self.address.as_deref().is_some_and(|a| !a.trim().is_empty()));
        }
        too_long(&mut e, "recipient_company", self.recipient_company.as_deref(), 100);
        too_long(&mut e, "address", self.address.as_deref(), 120);
        e
    }
}

/// An uploaded document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DocumentView {
    pub kind: DocumentKind,
    pub file_name: String,
    pub file_type: FileType,
    pub size: u64,
    pub sha256: String,
}

/// The reviewer's reason for one field or document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FieldReason {
    /// A field name of the wizard (`org_name`, `credit_code`, `business_licence` …).
    pub field: String,
    pub reason: String,
}

/// `PUT /api/applications/{id}/challenge-phrase` (step ⑦).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SetChallengePhrase {
    pub challenge_phrase: String,
}

/// `PUT /api/admin/catalogue/validity/{id}`: a new price (in fen) for a validity option.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SetPrice {
    pub price_fen: i64,
}

/// `POST /api/admin/catalogue/types/{id}/validity`: another validity period on sale.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewValidity {
    pub years: u32,
    pub price_fen: i64,
}

/// `POST /api/admin/catalogue/projects`: a new project (项目).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewProject {
    pub name: String,
}

impl NewProject {
    pub fn check(&self) -> Vec<FieldError> {
        check_catalogue_name(&self.name)
            .err()
            .map(|error| FieldError { field: "name".into(), error })
            .into_iter()
            .collect()
    }
}

/// `PUT /api/admin/catalogue/types/{id}`: what administrators may change on a certificate
/// type: its name, the media it is sold on, the documents step ③ asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TypeSettings {
    pub name: String,
    pub media: Vec<Medium>,
    pub documents: Vec<DocumentKind>,
    /// Renewals (证书延期) of this type go to staff review (seed 002) instead of being
    /// approved by the system (seed 004).
    #[serde(default)]
    pub renewal_review: bool,
}

impl TypeSettings {
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Err(error) = check_catalogue_name(&self.name) {
            e.push(FieldError { field: "name".into(), error });
        }
        if self.media.is_empty() {
            e.push(FieldError { field: "media".into(), error: ValidationError::Required });
        }
        e
    }

    /// Stored as comma-separated codes, each once, in the order of `Medium::ALL`.
    pub fn media_codes(&self) -> String {
        Medium::ALL.into_iter().filter(|m| self.media.contains(m)).map(Medium::as_str).collect::<Vec<_>>().join(",")
    }

    pub fn document_codes(&self) -> String {
        DocumentKind::ALL
            .into_iter()
            .filter(|d| self.documents.contains(d))
            .map(DocumentKind::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `POST /api/admin/catalogue/projects/{id}/types`: a new certificate type. Its profile is
/// fixed from then on, since issued certificates and pending downloads depend on it. It is
/// offered to customers once a validity period is on sale.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewType {
    pub profile: CertificateProfile,
    #[serde(flatten)]
    pub settings: TypeSettings,
}

/// A project's or type's name: 1 to 30 characters, not blank.
pub fn check_catalogue_name(name: &str) -> Result<(), ValidationError> {
    let n = name.trim().chars().count();
    if n == 0 {
        Err(ValidationError::Required)
    } else if n > 30 {
        Err(ValidationError::NameLength)
    } else if name.chars().any(char::is_control) || name.trim() != name {
        Err(ValidationError::NameChars)
    } else {
        Ok(())
    }
}

/// Prices from 0.01 to 100,000 yuan; validity 1 to 5 years (the CA refuses longer).
pub fn check_price(field: &str, price_fen: i64) -> Vec<FieldError> {
    if (1..=10_000_000).contains(&price_fen) {
        Vec::new()
    } else {
        vec![FieldError { field: field.into(), error: ValidationError::OutOfRange }]
    }
}

/// One line of the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReviewQueueItem {
    pub request: crate::request::RequestView,
    /// Working days left of the 5-working-day promise (negative: overdue).
    pub working_days_left: i64,
}

/// `GET /api/admin/accounts?mobile=`: a customer account as an administrator finds it to set
/// its billing mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AccountBilling {
    pub id: String,
    pub mobile: String,
    /// The account holder (person) and, for an enterprise, its unit.
    pub name: String,
    pub org_name: Option<String>,
    pub billing: BillingMode,
}

/// `PUT /api/admin/accounts/{id}/billing`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SetBilling {
    pub billing: BillingMode,
}

/// `POST /api/admin/applications/{id}/review`: approve, or reject with reasons.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReviewDecision {
    pub approve: bool,
    #[serde(default)]
    pub reasons: Vec<FieldReason>,
}

/// `POST /api/applications/issue`: the acceptance number, the download authorization code
/// from the approval SMS, and the CSR the token made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct IssueForCsr {
    pub acceptance_no: String,
    pub auth_code: String,
    pub csr_pem: String,
    /// 介质编号 of the token the key was made on, recorded with the certificate.
    #[serde(default)]
    pub medium_no: Option<String>,
    /// The kind of that token, as the agent reports it: it must be the medium chosen in
    /// step ① (a UKey application is not downloaded into a PC soft shield).
    pub medium_kind: crate::agent::TokenKind,
}

/// `POST /api/applications/download-info` (查询证书, seed 004 §9.3): the acceptance number
/// and download authorization code give what is about to be issued, and the key the token
/// must make for it. Spends one of the code's tries, like issuance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DownloadQuery {
    pub acceptance_no: String,
    pub auth_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DownloadInfo {
    /// 通用名: the holder's name (the unit's, or the person's).
    pub common_name: String,
    pub profile: crate::certificate::CertificateProfile,
    pub key_algorithm: crate::agent::KeyAlgorithm,
    pub validity_years: u32,
    /// The medium chosen in step ①: the token to download into must be of this kind.
    pub medium: Medium,
}

/// The issued certificate, and the CA chain (issuing CA, then root) a token stores with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Issued {
    pub certificate_uid: String,
    pub serial: String,
    pub pem: String,
    #[serde(default)]
    pub chain_pem: Vec<String>,
}

/// `POST /api/applications/{id}/invoice` (开具发票, seed 004 §3.1.6). The amount is the
/// application's price, filled in by the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct InvoiceRequest {
    /// 名称
    pub title: OrgName,
    /// 税号: the unified social credit code.
    pub tax_number: CreditCode,
    pub address: String,
    /// 开户行
    pub bank: String,
    pub phone: String,
    /// 账号
    pub bank_account: String,
    /// 推送邮箱: where the e-invoice is sent.
    pub email: Email,
}

impl InvoiceRequest {
    pub fn check(&self) -> Vec<FieldError> {
        InvoiceRequest::check_details(&self.address, &self.bank, &self.phone, &self.bank_account)
    }

    /// The free-text fields: required, and within their lengths.
    pub fn check_details(address: &str, bank: &str, phone: &str, bank_account: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        for (field, value, max) in
            [("address", address, 120), ("bank", bank, 60), ("phone", phone, 30), ("bank_account", bank_account, 40)]
        {
            let v = value.trim();
            if v.is_empty() {
                e.push(FieldError { field: field.into(), error: ValidationError::Required });
            } else if v.chars().count() > max {
                e.push(FieldError { field: field.into(), error: ValidationError::TooLong });
            }
        }
        e
    }
}

/// 待开票 / 已开票
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum InvoiceStatus {
    Requested,
    Issued,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct InvoiceView {
    pub id: String,
    pub application_id: String,
    /// 业务类型 of the request invoiced.
    #[serde(default = "crate::request::apply_kind")]
    pub kind: crate::request::RequestKind,
    pub acceptance_no: Option<String>,
    pub status: InvoiceStatus,
    pub title: String,
    pub tax_number: String,
    pub amount_fen: i64,
    pub email: String,
    /// 发票号码, once issued.
    pub invoice_no: Option<String>,
    pub requested_at: String,
    pub issued_at: Option<String>,
}

/// `POST /api/admin/applications/{id}/shipment`: the courier and tracking number (邮寄).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShipmentRequest {
    pub courier: String,
    pub tracking_no: String,
}

/// One line of 邮寄查询.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Shipment {
    pub application_id: String,
    /// 业务类型 of the request posted.
    #[serde(default = "crate::request::apply_kind")]
    pub kind: crate::request::RequestKind,
    pub acceptance_no: Option<String>,
    /// 通用名: the certificate's common name.
    pub common_name: String,
    pub courier: String,
    pub tracking_no: String,
    pub shipped_at: String,
}

/// Reads yuan as typed ("300", "123.45", "0.5") into fen; at most two decimals.
pub fn parse_yuan(s: &str) -> Result<i64, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ValidationError::Required);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return Err(ValidationError::AmountFormat);
    }
    let whole: i64 = whole.parse().map_err(|_| ValidationError::AmountFormat)?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| ValidationError::AmountFormat)?;
    Ok(whole * 100 + frac)
}

/// Formats fen as yuan: 30000 → "300", 12345 → "123.45".
pub fn yuan(fen: i64) -> String {
    if fen % 100 == 0 { format!("{}", fen / 100) } else { format!("{}.{:02}", fen / 100, (fen % 100).abs()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser app's flat reader (`FlatHolder`, `FlatIdDocument`) takes the JSON the
    /// derived readers take, to the same value, and refuses what they refuse.
    #[test]
    fn the_apps_flat_holder_reads_as_the_derived_one() {
        use crate::validate::FlatIdDocument;
        let flat = |json: &str| -> Option<Holder> { serde_json::from_str::<FlatHolder>(json).ok()?.try_into().ok() };
        let id = r#"{"type": "resident_id", "number": "11010519491231002X"}"#;
        let taken = [
            r#"{"kind": "organisation", "org_name": "福建某某科技有限公司", "credit_code": "91350100M000100Y43"}"#
                .to_owned(),
            format!(r#"{{"kind": "person", "name": "李四", "id": {id}}}"#),
            r#"{"name": "李四", "id": {"number": "E12345678", "type": "passport"}, "kind": "person"}"#.to_owned(),
            format!(
                r#"{{"kind": "legal_person", "name": "李四", "id": {id}, "org_name": "福建某某科技有限公司", "credit_code": "91350100M000100Y43", "extra": 1}}"#
            ),
        ];
        for json in &taken {
            let derived: Holder = serde_json::from_str(json).unwrap();
            assert_eq!(flat(json).as_ref(), Some(&derived), "{json}");
        }
        let flat_id: IdDocument = serde_json::from_str::<FlatIdDocument>(id).unwrap().try_into().unwrap();
        assert_eq!(flat_id, serde_json::from_str::<IdDocument>(id).unwrap());
        let refused = [
            r#"{"kind": "organisation", "org_name": "福建某某科技有限公司"}"#.to_owned(),
            r#"{"kind": "person", "name": "李四"}"#.to_owned(),
            r#"{"kind": "robot", "name": "李四"}"#.to_owned(),
            r#"{"name": "李四"}"#.to_owned(),
            r#"{"kind": "person", "name": "李四", "id": {"type": "resident_id", "number": "110105194912310021"}}"#
                .to_owned(),
            r#"{"kind": "person", "name": "李四", "id": {"type": "visa", "number": "E12345678"}}"#.to_owned(),
            r#"{"kind": "organisation", "org_name": "", "credit_code": "91350100M000100Y43"}"#.to_owned(),
        ];
        for json in &refused {
            assert!(serde_json::from_str::<Holder>(json).is_err(), "{json}");
            assert_eq!(flat(json), None, "{json}");
        }
    }

    #[test]
    fn catalogue_names_and_type_settings() {
        assert_eq!(check_catalogue_name("机构加密证书"), Ok(()));
        assert_eq!(check_catalogue_name("  "), Err(ValidationError::Required));
        assert_eq!(check_catalogue_name(&"证".repeat(31)), Err(ValidationError::NameLength));
        assert_eq!(check_catalogue_name("a\u{0}b"), Err(ValidationError::NameChars));
        assert_eq!(check_catalogue_name(" 前后空格 "), Err(ValidationError::NameChars));
        let settings = TypeSettings {
            name: "机构加密证书".into(),
            media: vec![Medium::PcShield, Medium::Ukey, Medium::Ukey],
            documents: vec![DocumentKind::OperatorId, DocumentKind::BusinessLicence],
            renewal_review: true,
        };
        assert!(settings.check().is_empty());
        assert_eq!(settings.media_codes(), "ukey,pc_shield");
        assert_eq!(settings.document_codes(), "business_licence,operator_id");
        let none = TypeSettings { name: String::new(), media: vec![], documents: vec![], renewal_review: false };
        let fields: Vec<_> = none.check().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "media"]);
        // The profile travels beside the settings, flattened.
        let t: NewType =
            serde_json::from_str(r#"{"profile":"org_enc","name":"机构加密证书","media":["ukey"],"documents":[]}"#)
                .unwrap();
        assert_eq!((t.profile, t.settings.media_codes()), (CertificateProfile::OrgEnc, "ukey".to_owned()));
    }

    #[test]
    fn prices_typed_in_yuan() {
        assert_eq!(parse_yuan("300"), Ok(30000));
        assert_eq!(parse_yuan(" 123.45 "), Ok(12345));
        assert_eq!(parse_yuan("0.5"), Ok(50));
        for bad in ["", "1.234", "-1", "1e3", ".5", "1,000", "三百"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(yuan(parse_yuan("123.4").unwrap()), "123.40");
    }

    #[test]
    fn files_are_known_by_their_content() {
        let cases: &[(&[u8], Option<FileType>)] = &[
            (b"\xFF\xD8\xFF\xE0....JFIF", Some(FileType::Jpeg)),
            (b"\x89PNG\r\n\x1a\n....", Some(FileType::Png)),
            (b"GIF89a....", Some(FileType::Gif)),
            (b"BM..............", Some(FileType::Bmp)),
            (b"%PDF-1.7\n", Some(FileType::Pdf)),
            (b"PK\x03\x04....", Some(FileType::Zip)),
            (b"Rar!\x1a\x07\x01\x00", Some(FileType::Rar)),
            (b"MZ\x90\x00 this is an exe", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(FileType::sniff(bytes), *want, "{bytes:?}");
        }
    }

    #[test]
    fn documents_are_checked_by_size_content_and_kind() {
        let pdf = b"%PDF-1.7\n".to_vec();
        assert_eq!(check_document(DocumentKind::BusinessLicence, &pdf), Ok(FileType::Pdf));
        assert_eq!(check_document(DocumentKind::Other, &pdf), Err(ValidationError::FileType));
        assert_eq!(check_document(DocumentKind::Other, b"PK\x03\x04zip"), Ok(FileType::Zip));
        assert_eq!(check_document(DocumentKind::OperatorId, b"MZ\x90\x00"), Err(ValidationError::FileType));
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
        assert_eq!(check_document(DocumentKind::BusinessLicence, &big), Err(ValidationError::FileTooLarge));
        assert_eq!(check_document(DocumentKind::BusinessLicence, b""), Err(ValidationError::Required));
    }

    #[test]
    fn each_profile_asks_for_its_own_holder() {
        let person = |email: Option<&str>| CertificateInfo {
            holder: Holder::Person {
                name: PersonName::parse("李四").unwrap(),
                id: IdDocument::parse(crate::validate::IdType::ResidentId, "11010519491231002X").unwrap(),
            },
            validity_id: "1y".into(),
            email: email.map(|e| Email::parse(e).unwrap()),
            province: "天津市".into(),
            city: "和平区".into(),
        };
        assert!(person(Some("ls@example.com")).check_for(CertificateProfile::PersonalSign).is_empty());
        assert!(person(Some("ls@example.com")).check_for(CertificateProfile::PersonalEnc).is_empty());
        let fields = |e: Vec<FieldError>| e.into_iter().map(|f| format!("{}:{}", f.field, f.error)).collect::<Vec<_>>();
        assert_eq!(fields(person(None).check_for(CertificateProfile::PersonalSign)), ["email:required"]);
        assert_eq!(
            fields(person(Some("ls@example.com")).check_for(CertificateProfile::OrgSign)),
            ["holder:holder_kind"]
        );
        assert_eq!(person(None).holder.common_name(), "李四");
        assert_eq!(person(None).holder.organisation(), None);

        let legal = CertificateInfo {
            holder: Holder::LegalPerson {
                name: PersonName::parse("王五").unwrap(),
                id: IdDocument::parse(crate::validate::IdType::Passport, "E12345678").unwrap(),
                org_name: OrgName::parse(&"天津".repeat(33)).unwrap(),
                credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
            },
            email: None,
            ..person(None)
        };
        // 66 characters fit a registered name but not a certificate's organizationName.
        assert_eq!(fields(legal.check_for(CertificateProfile::LegalSign)), ["org_name:subject_name_length"]);
        assert_eq!(legal.holder.common_name(), "王五");
        for p in CertificateProfile::ALL {
            let want = match p.as_str().split('_').next() {
                Some("org") => HolderKind::Organisation,
                Some("legal") => HolderKind::LegalPerson,
                _ => HolderKind::Person,
            };
            assert_eq!(HolderKind::of(p), want, "{p:?}");
        }
    }

    #[test]
    fn holders_on_the_wire_are_tagged_with_their_kind() {
        let json = r#"{"holder":{"kind":"legal_person","name":"王五","id":{"type":"hk_macao_permit","number":"H12345678"},
            "org_name":"天津市滨海数字认证有限公司","credit_code":"91350100M000100Y43"},
            "validity_id":"legal-1y","province":"天津市","city":"和平区"}"#;
        let info: CertificateInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.holder.kind(), HolderKind::LegalPerson);
        assert_eq!(info.holder.id().map(|d| d.number()), Some("H12345678"));
        let again: CertificateInfo = serde_json::from_str(&serde_json::to_string(&info).unwrap()).unwrap();
        assert_eq!(again, info);
        // A bad number is refused while decoding, with the code the browser shows.
        let bad = json.replace("H12345678", "X12345678");
        let err = serde_json::from_str::<CertificateInfo>(&bad).unwrap_err().to_string();
        assert!(err.starts_with("hk_macao_permit_format"), "{err}");
        assert_eq!(Medium::of_token(crate::agent::TokenKind::PcShield), Medium::PcShield);
        assert_eq!(Medium::of_token(crate::agent::TokenKind::Ukey), Medium::Ukey);
    }

    #[test]
    fn regions_and_delivery() {
        let info = |p: &str, c: &str| CertificateInfo {
            holder: Holder::Organisation {
                org_name: OrgName::parse("天津市滨海数字认证有限公司").unwrap(),
                credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
            },
            validity_id: "1y".into(),
            email: None,
            province: p.into(),
            city: c.into(),
        };
        assert!(info("天津市", "和平区").check().is_empty());
        assert_eq!(info("天津市", "朝阳区").check()[0].field, "city");
        assert_eq!(info("火星", "和平区").check()[0].field, "province");
        let post = DeliveryInfo {
            method: DeliveryMethod::Post,
            recipient_company: None,
            recipient_name: None,
            recipient_phone: None,
            address: Some(" ".into()),
            cash_on_delivery: true,
        };
        let fields: Vec<String> = post.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["recipient_name", "recipient_phone", "address"]);
        assert!(DeliveryInfo { method: DeliveryMethod::Counter, ..post }.check().is_empty());
        assert_eq!(yuan(30000), "300");
        assert_eq!(yuan(12345), "123.45");
    }
}

crate::deserialize_by_name!(Medium);

crate::deserialize_by_name!(BillingMode);

crate::deserialize_by_name!(DocumentKind);

crate::deserialize_by_name!(FileType, HolderKind, DeliveryMethod, InvoiceStatus);
