//! The API's endpoints, each declared once: its method, its path, what the request carries and
//! what a success answers. The server routes by these declarations (`backend/src/http`), the
//! app calls through them (`frontend/src/api.rs`), the API tests call through them, and the
//! OpenAPI document at `/api/openapi.json` is generated from them ([`ALL`]).
//!
//! An endpoint is named after its business operation, as its handler and domain function are.
//! Use them qualified (`endpoint::SignIn`): several share their name with their request body's
//! type (`endpoint::ChooseType` carries an `apply::ChooseType`).
//!
//! Not declared here, because their contract is someone else's: the payment providers'
//! notifications (`/api/payments/wechat/notify`, `/api/payments/alipay/notify`, in the
//! provider's own protocol), the sandboxes that stand in for those providers, the CA's files
//! (`/ca/…`), OCSP (`/ocsp`, RFC 6960) and the mobile app's manifest and service worker.

use crate::{
    account, admin, agent, apply, change, dashboard, directory, downloads, freeze, health, my_certificates, notice,
    payment, reissue, renew, request, revoke, shield,
};

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// What a request carries besides its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// Nothing (a state-changing request with no body may send `{}`).
    Nothing,
    /// A JSON body of the endpoint's `Request` type.
    Json,
    /// A query string of the endpoint's `Request` type.
    Query,
    /// A file's bytes as the body, its name percent-encoded in `X-File-Name`.
    File,
}

/// What a successful answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// 200 with a JSON body of the endpoint's `Response` type.
    Json,
    /// 204 with no body.
    NoContent,
    /// 200 with a file of one of these media types (separated by spaces).
    File(&'static str),
}

/// One endpoint of the API.
pub trait Endpoint {
    /// The operation's name (the type's name).
    const NAME: &'static str;
    const METHOD: Method;
    /// The full path, with `{name}` for each path parameter, as the server routes it.
    const PATH: &'static str;
    const CARRIES: Carries;
    const ANSWERS: Answers;
    /// The JSON body or query string (`()` when the request carries neither).
    type Request;
    /// The JSON answer (`()` when a success answers no JSON).
    type Response;

    /// The path with its parameters filled in, in order and percent-encoded.
    fn path(args: &[&str]) -> String {
        fill(Self::PATH, args)
    }
}

/// A path's `{…}` parameters replaced by `args`, in order. Each is percent-encoded as a path
/// segment (an identifier never holds `/`, but a typed one must not change the path).
pub fn fill(path: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(path.len() + 16);
    let mut args = args.iter();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        for b in args.next().copied().unwrap_or_default().bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// What a client sends to call `E`: the path with its parameters filled (and `?` and the
/// query string, when `E` reads one and it has a field) and the JSON body, `{}` for a POST or
/// PUT that carries nothing (a file's bytes are the caller's to send). `None`: the request
/// does not encode.
pub fn request<E: Endpoint>(args: &[&str], request: &E::Request) -> Option<(String, Option<String>)>
where
    E::Request: serde::Serialize,
{
    let mut path = E::path(args);
    let body = match E::CARRIES {
        Carries::Json => Some(serde_json::to_string(request).ok()?),
        Carries::Query => {
            let query = query_string(request).ok()?;
            if !query.is_empty() {
                path.push('?');
                path.push_str(&query);
            }
            None
        }
        Carries::Nothing | Carries::File => matches!(E::METHOD, Method::Post | Method::Put).then(|| "{}".to_owned()),
    };
    Some((path, body))
}

/// Staff calls are the ones under `/api/admin`: they need the staff session and its token.
pub fn is_staff_path(path: &str) -> bool {
    path == "/api/admin" || path.starts_with("/api/admin/")
}

/// A query type as its query string (without `?`; empty when every field is left out).
pub fn query_string<T: serde::Serialize>(query: &T) -> Result<String, serde_urlencoded::ser::Error> {
    serde_urlencoded::to_string(query)
}

/// The names of a path's parameters, in order.
pub fn parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
}

/// One declared endpoint, as [`ALL`] lists it.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub name: &'static str,
    pub summary: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub carries: Carries,
    pub answers: Answers,
    /// The request's JSON Schema (its body's or its query's).
    #[cfg(feature = "openapi")]
    pub request: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    /// The JSON answer's JSON Schema.
    #[cfg(feature = "openapi")]
    pub response: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

impl Operation {
    /// Staff endpoints are the ones under `/api/admin`; they need the staff session.
    pub fn is_staff(&self) -> bool {
        is_staff_path(self.path)
    }
}

macro_rules! carried {
    (Nothing) => {
        ()
    };
    (File) => {
        ()
    };
    (Json($t:ty)) => {
        $t
    };
    (Query($t:ty)) => {
        $t
    };
}

macro_rules! carries {
    (Nothing) => {
        Carries::Nothing
    };
    (File) => {
        Carries::File
    };
    (Json($t:ty)) => {
        Carries::Json
    };
    (Query($t:ty)) => {
        Carries::Query
    };
}

macro_rules! answered {
    (NoContent) => {
        ()
    };
    (File($mime:literal)) => {
        ()
    };
    (Json($t:ty)) => {
        $t
    };
}

macro_rules! answers {
    (NoContent) => {
        Answers::NoContent
    };
    (File($mime:literal)) => {
        Answers::File($mime)
    };
    (Json($t:ty)) => {
        Answers::Json
    };
}

macro_rules! method {
    (GET) => {
        Method::Get
    };
    (POST) => {
        Method::Post
    };
    (PUT) => {
        Method::Put
    };
    (DELETE) => {
        Method::Delete
    };
}

macro_rules! endpoints {
    ($(
        #[doc = $summary:literal]
        $name:ident: $method:ident $path:literal, $carries:ident $(($req:ty))? -> $answers:ident $(($($resp:tt)*))?;
    )*) => {
        $(
            #[doc = $summary]
            #[doc = ""]
            #[doc = concat!("`", stringify!($method), " ", $path, "`")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Endpoint for $name {
                const NAME: &'static str = stringify!($name);
                const METHOD: Method = method!($method);
                const PATH: &'static str = $path;
                const CARRIES: Carries = carries!($carries $(($req))?);
                const ANSWERS: Answers = answers!($answers $(($($resp)*))?);
                type Request = carried!($carries $(($req))?);
                type Response = answered!($answers $(($($resp)*))?);
            }
        )*

        /// Every declared endpoint, in the order of this file.
        pub const ALL: &[Operation] = &[$(
            Operation {
                name: stringify!($name),
                summary: $summary.trim_ascii(),
                method: method!($method),
                path: $path,
                carries: carries!($carries $(($req))?),
                answers: answers!($answers $(($($resp)*))?),
                #[cfg(feature = "openapi")]
                request: |g| g.subschema_for::<<$name as Endpoint>::Request>(),
                #[cfg(feature = "openapi")]
                response: |g| g.subschema_for::<<$name as Endpoint>::Response>(),
            },
        )*];
    };
}

endpoints! {
    // The service itself.
    /// Whether the service and its database answer.
    Health: GET "/api/health", Nothing -> Json(health::Health);
    /// This document: the API's endpoints as OpenAPI 3.1.
    OpenApi: GET "/api/openapi.json", Nothing -> Json(serde_json::Value);

    // Accounts (注册, 登录, 找回密码, 账户).
    /// A new image captcha.
    NewCaptcha: GET "/api/captcha", Nothing -> Json(account::Captcha);
    /// Sends an SMS code for registration or a password reset.
    SendCode: POST "/api/codes", Json(account::SendCodeRequest) -> Json(account::CodeSent);
    /// Registers an account (the phone number is the user name) and signs it in.
    Register: POST "/api/register", Json(account::RegisterRequest) -> Json(account::SessionInfo);
    /// Signs in by user name and password.
    SignIn: POST "/api/sign-in", Json(account::SignInRequest) -> Json(account::SessionInfo);
    /// Starts a sign-in with a security key (WebAuthn).
    StartKeySignIn: POST "/api/sign-in/key/start", Json(account::StartKeySignIn) -> Json(account::KeySignInChallenge);
    /// Finishes a sign-in with a security key.
    FinishKeySignIn: POST "/api/sign-in/key/finish", Json(account::FinishKeySignIn) -> Json(account::SessionInfo);
    /// Starts a sign-in with a certificate (UKey or PC soft shield): the challenge to sign.
    StartCertificateSignIn: POST "/api/sign-in/certificate/start", Nothing -> Json(account::CertificateChallenge);
    /// Finishes a sign-in with a certificate: the signed challenge.
    FinishCertificateSignIn: POST "/api/sign-in/certificate/finish", Json(account::FinishCertificateSignIn) -> Json(account::SessionInfo);
    /// The signed-in customer's session.
    CurrentSession: GET "/api/session", Nothing -> Json(account::SessionInfo);
    /// Ends this session.
    SignOut: POST "/api/sign-out", Nothing -> NoContent;
    /// Ends every other session of the account.
    SignOutOthers: POST "/api/sign-out-others", Nothing -> Json(account::SessionsEnded);
    /// Sets a new password with an SMS code.
    ResetPassword: POST "/api/password-reset", Json(account::ResetPasswordRequest) -> NoContent;
    /// The account's details.
    GetProfile: GET "/api/account", Nothing -> Json(account::Profile);
    /// Changes the account's details.
    UpdateProfile: PUT "/api/account", Json(account::UpdateProfileRequest) -> Json(account::Profile);
    /// Changes the password.
    ChangePassword: POST "/api/account/password", Json(account::ChangePasswordRequest) -> NoContent;
    /// The account's recent sign-ins.
    ListSignIns: GET "/api/account/sign-ins", Nothing -> Json(Vec<account::SignInRecord>);
    /// The account's security keys.
    ListKeys: GET "/api/account/keys", Nothing -> Json(Vec<account::SecurityKey>);
    /// Starts registering a security key.
    StartKeyRegistration: POST "/api/account/keys/start", Json(account::StartKeyRegistration) -> Json(account::KeyRegistrationChallenge);
    /// Finishes registering a security key.
    FinishKeyRegistration: POST "/api/account/keys/finish", Json(account::FinishKeyRegistration) -> Json(account::SecurityKey);
    /// Removes a security key.
    RemoveKey: POST "/api/account/keys/{id}/remove", Json(account::RemoveKeyRequest) -> NoContent;

    // A new certificate (证书新办): the wizard, documents, invoices and parcels.
    /// The customer's applications.
    ListApplications: GET "/api/applications", Nothing -> Json(Vec<request::RequestView>);
    /// Starts an application (a draft).
    StartApplication: POST "/api/applications", Nothing -> Json(request::RequestView);
    /// Issues an approved application's certificate for a CSR made in the token (the agent's call).
    IssueForCsr: POST "/api/applications/issue", Json(apply::IssueForCsr) -> Json(apply::Issued);
    /// What a download code (远程下载) will issue.
    GetDownloadInfo: POST "/api/applications/download-info", Json(apply::DownloadQuery) -> Json(apply::DownloadInfo);
    /// One application.
    GetApplication: GET "/api/applications/{id}", Nothing -> Json(request::RequestView);
    /// Step 1: the certificate type, validity and medium.
    ChooseType: PUT "/api/applications/{id}/choose-type", Json(apply::ChooseType) -> Json(request::RequestView);
    /// Step 2: the certificate's details.
    SaveCertificateInfo: PUT "/api/applications/{id}/certificate-info", Json(apply::CertificateInfo) -> Json(request::RequestView);
    /// Step 3: the operator (经办人).
    SaveOperator: PUT "/api/applications/{id}/operator", Json(apply::OperatorInfo) -> Json(request::RequestView);
    /// Step 5: the delivery address.
    SaveDelivery: PUT "/api/applications/{id}/delivery", Json(apply::DeliveryInfo) -> Json(request::RequestView);
    /// The challenge phrase for revoking without signing in.
    SetChallengePhrase: PUT "/api/applications/{id}/challenge-phrase", Json(apply::SetChallengePhrase) -> Json(request::RequestView);
    /// Step 4: uploads one document (PDF, JPEG or PNG).
    UploadDocument: PUT "/api/applications/{id}/documents/{kind}", File -> Json(apply::DocumentView);
    /// Downloads one of the customer's own documents.
    DownloadDocument: GET "/api/applications/{id}/documents/{kind}", Nothing -> File("application/pdf image/jpeg image/png");
    /// Submits the application for review.
    SubmitApplication: POST "/api/applications/{id}/submit", Nothing -> Json(request::RequestView);
    /// The application form as a PDF, to sign and stamp.
    ApplicationForm: GET "/api/applications/{id}/form.pdf", Nothing -> File("application/pdf");
    /// Asks for an invoice for a paid application.
    RequestInvoice: POST "/api/applications/{id}/invoice", Json(apply::InvoiceRequest) -> Json(apply::InvoiceView);
    /// The customer's invoices.
    ListInvoices: GET "/api/invoices", Nothing -> Json(Vec<apply::InvoiceView>);
    /// An issued invoice as a PDF.
    InvoicePdf: GET "/api/invoices/{id}/pdf", Nothing -> File("application/pdf");
    /// The customer's parcels and their tracking.
    ListShipments: GET "/api/shipments", Nothing -> Json(Vec<apply::Shipment>);
    /// The certificate types, validities and prices a customer may choose.
    CustomerCatalogue: GET "/api/catalogue", Nothing -> Json(apply::Catalogue);

    // Payment (扫码支付, 对公转账).
    /// The application's payment order, if any.
    PaymentStatus: GET "/api/applications/{id}/payment", Nothing -> Json(payment::PaymentOrder);
    /// Opens a payment order (a QR code to scan, or a bank transfer).
    OrderPayment: POST "/api/applications/{id}/payment", Json(payment::PaymentRequest) -> Json(payment::PaymentOrder);
    /// Closes an unpaid payment order.
    CancelPayment: DELETE "/api/applications/{id}/payment", Nothing -> NoContent;
    /// The ways of paying this CA offers.
    PaymentWays: GET "/api/payments/ways", Nothing -> Json(payment::PaymentWays);
    /// The bank transfer's details (对公转账).
    GetBankTransfer: GET "/api/applications/{id}/transfer", Nothing -> Json(payment::BankTransfer);
    /// Uploads the bank transfer's voucher.
    UploadTransferVoucher: PUT "/api/applications/{id}/transfer-voucher", File -> Json(payment::BankTransfer);

    // The holder's certificates (我的证书) and their lifecycle.
    /// The holder's certificates.
    ListMyCertificates: GET "/api/my-certificates", Nothing -> Json(Vec<my_certificates::MyCertificate>);
    /// One of the holder's certificates.
    GetMyCertificate: GET "/api/my-certificates/{uid}", Nothing -> Json(my_certificates::MyCertificate);
    /// Sends an SMS code for an operation on the certificate.
    SendCertificateCode: POST "/api/my-certificates/{uid}/code", Json(my_certificates::CertificateCodeRequest) -> Json(my_certificates::CertificateCodeSent);
    /// Freezes the certificate (证书冻结).
    Freeze: POST "/api/my-certificates/{uid}/freeze", Nothing -> Json(my_certificates::MyCertificate);
    /// Unfreezes the certificate with an SMS code.
    Unfreeze: POST "/api/my-certificates/{uid}/unfreeze", Json(freeze::Unfreeze) -> Json(my_certificates::MyCertificate);
    /// Turns off the certificate's mobile shield.
    DisableShield: POST "/api/my-certificates/{uid}/shield/disable", Nothing -> Json(my_certificates::MyCertificate);
    /// Renewal (证书延期): what a renewal of this certificate offers.
    OfferRenewal: GET "/api/renew/{uid}", Nothing -> Json(renew::RenewalOffer);
    /// Starts a renewal.
    StartRenewal: POST "/api/renew/{uid}", Json(renew::StartRenewal) -> Json(request::RequestView);
    /// Submits a renewal.
    SubmitRenewal: POST "/api/renew/requests/{id}/submit", Nothing -> Json(request::RequestView);
    /// Issues the renewed certificate for a CSR made in the token.
    IssueRenewal: POST "/api/renew/requests/{id}/issue", Json(renew::RenewalCsr) -> Json(apply::Issued);
    /// Records that the renewed certificate is in the token.
    FinishRenewal: POST "/api/renew/requests/{id}/finish", Nothing -> Json(request::RequestView);
    /// Change (证书变更): what a change of this certificate offers.
    OfferChange: GET "/api/change/{uid}", Nothing -> Json(change::ChangeOffer);
    /// Starts a change.
    StartChange: POST "/api/change/{uid}", Json(change::StartChange) -> Json(request::RequestView);
    /// The change's new holder details.
    SaveChangeHolder: PUT "/api/change/requests/{id}/holder", Json(apply::Holder) -> Json(request::RequestView);
    /// The change's new operator (经办人变更).
    SaveChangeOperator: PUT "/api/change/requests/{id}/operator", Json(apply::OperatorInfo) -> Json(request::RequestView);
    /// Submits a change for review.
    SubmitChange: POST "/api/change/requests/{id}/submit", Nothing -> Json(request::RequestView);
    /// Withdraws a change not yet decided.
    WithdrawChange: POST "/api/change/requests/{id}/withdraw", Nothing -> Json(request::RequestView);
    /// Issues the changed certificate for a CSR made in the token.
    IssueChange: POST "/api/change/requests/{id}/issue", Json(renew::RenewalCsr) -> Json(apply::Issued);
    /// Records that the changed certificate is in the token.
    FinishChange: POST "/api/change/requests/{id}/finish", Nothing -> Json(request::RequestView);
    /// Reissue (证书补办): what a reissue of this certificate offers.
    OfferReissue: GET "/api/reissue/{uid}", Nothing -> Json(reissue::ReissueOffer);
    /// Starts a reissue.
    StartReissue: POST "/api/reissue/{uid}", Json(reissue::StartReissue) -> Json(request::RequestView);
    /// Proves the holder with an SMS code.
    VerifyReissue: POST "/api/reissue/requests/{id}/verify", Json(reissue::VerifyReissue) -> Json(request::RequestView);
    /// Where the new token goes.
    SaveReissueDelivery: PUT "/api/reissue/requests/{id}/delivery", Json(apply::DeliveryInfo) -> Json(request::RequestView);
    /// Submits a reissue.
    SubmitReissue: POST "/api/reissue/requests/{id}/submit", Nothing -> Json(request::RequestView);
    /// Issues the reissued certificate for a CSR made in the new token.
    IssueReissue: POST "/api/reissue/requests/{id}/issue", Json(reissue::ReissueCsr) -> Json(apply::Issued);
    /// Records that the reissued certificate is in the token.
    FinishReissue: POST "/api/reissue/requests/{id}/finish", Nothing -> Json(request::RequestView);
    /// Cancellation (证书注销): what a cancellation of this certificate offers.
    OfferRevocation: GET "/api/revoke/{uid}", Nothing -> Json(revoke::RevocationOffer);
    /// Starts a cancellation.
    StartRevocation: POST "/api/revoke/{uid}", Json(revoke::StartRevocation) -> Json(request::RequestView);
    /// Submits a cancellation with its SMS code.
    SubmitRevocation: POST "/api/revoke/requests/{id}/submit", Json(revoke::SubmitRevocation) -> Json(request::RequestView);
    /// The holder's notices (expiry and the like).
    ListNotices: GET "/api/notices", Nothing -> Json(notice::NoticeList);
    /// Marks a notice read.
    MarkNoticeRead: POST "/api/notices/{id}/read", Nothing -> NoContent;

    // Public services (查询服务), without signing in.
    /// Certificate status search by e-mail or name.
    SearchCertificates: GET "/api/public/certificates", Query(directory::SearchQuery) -> Json(directory::SearchResults);
    /// A certificate's public page.
    CertificateDetail: GET "/api/public/certificates/{uid}", Nothing -> Json(directory::CertificateDetail);
    /// Revokes a certificate with its challenge phrase.
    RevokeByChallengePhrase: POST "/api/public/certificates/{uid}/revoke", Json(directory::SelfRevocation) -> Json(directory::CertificateDetail);
    /// The revocation bulletin (作废公告).
    Bulletin: GET "/api/public/bulletin", Query(directory::BulletinQuery) -> Json(directory::BulletinPage);
    /// Progress lookup (进度查询) by acceptance number.
    LookUpProgress: POST "/api/public/progress", Json(directory::ProgressQuery) -> Json(directory::Progress);
    /// The CA's certificates and CRLs to download.
    ListCaFiles: GET "/api/public/ca", Nothing -> Json(Vec<directory::CaInfo>);
    /// An issued certificate's file (`{uid}.cer`, `.pem` or `.p7b`).
    CertificateFile: GET "/api/certificates/{file}", Nothing -> File("application/pkix-cert application/x-pem-file application/pkcs7-mime");
    /// The software to download (drivers, the agent).
    ListDownloads: GET "/api/downloads", Nothing -> Json(Vec<downloads::Download>);
    /// Starts a certificate verification (证书校验): the challenge to sign.
    StartVerification: POST "/api/verification/start", Nothing -> Json(account::CertificateChallenge);
    /// Verifies a certificate and its signature of the challenge.
    VerifyCertificate: POST "/api/verification", Json(directory::VerifyCertificate) -> Json(directory::VerificationReport);
    /// The key tokens' unlock answers are sealed to.
    GetUnlockKey: GET "/api/tokens/unlock-key", Nothing -> Json(agent::UnlockKey);
    /// Starts a PIN unlock (解锁): the challenge.
    StartTokenUnlock: POST "/api/tokens/unlock/start", Nothing -> Json(agent::UnlockChallenge);
    /// Grants a PIN unlock.
    GrantTokenUnlock: POST "/api/tokens/unlock", Json(agent::UnlockToken) -> Json(agent::UnlockGrant);

    // Sign-in by scanning a QR code with the mobile shield (扫码登录), and the mobile shield.
    /// Shows a QR code to scan.
    ShowQrLogin: POST "/api/qr-login", Nothing -> Json(shield::QrLoginShown);
    /// Whether the QR code was scanned and approved (then it signs the browser in).
    PollQrLogin: GET "/api/qr-login/{id}", Nothing -> Json(shield::QrLoginPoll);
    /// The phone scanned the QR code.
    ScanQrLogin: POST "/api/qr-login/scan", Json(shield::QrLoginScan) -> Json(shield::QrLoginScanned);
    /// The phone approves the sign-in with its signature.
    ApproveQrLogin: POST "/api/qr-login/approve", Json(shield::QrLoginApprove) -> NoContent;
    /// Enrols a phone as a certificate's mobile shield.
    EnrolShield: POST "/api/shield/enrol", Json(shield::ShieldEnrol) -> Json(shield::ShieldEnrolled);
    /// A challenge for the phone to sign.
    ShieldChallenge: POST "/api/shield/challenge", Json(shield::ShieldDevice) -> Json(shield::ShieldChallenge);
    /// Opens the phone's key with its PIN (the server holds half of the secret).
    UnsealShield: POST "/api/shield/unseal", Json(shield::ShieldUnseal) -> Json(shield::PinOutcome);
    /// Changes the mobile shield's PIN.
    ChangeShieldPin: POST "/api/shield/pin", Json(shield::ShieldChangePin) -> Json(shield::PinOutcome);
    /// Sends an SMS code to unlock the mobile shield.
    SendShieldUnlockCode: POST "/api/shield/unlock/code", Json(shield::ShieldDevice) -> Json(shield::ShieldCodeSent);
    /// Unlocks the mobile shield with an SMS code and a new PIN.
    UnlockShield: POST "/api/shield/unlock", Json(shield::ShieldUnlock) -> Json(shield::ShieldStatus);
    /// The mobile shield's status.
    ShieldStatus: POST "/api/shield/status", Json(shield::ShieldDevice) -> Json(shield::ShieldStatus);
    /// Sends an SMS code to turn the mobile shield off.
    SendShieldDisableCode: POST "/api/shield/disable/code", Json(shield::ShieldDisableByCode) -> Json(shield::ShieldCodeSent);
    /// Turns the mobile shield off with an SMS code.
    DisableShieldByCode: POST "/api/shield/disable", Json(shield::ShieldDisableByCode) -> NoContent;
    /// Renews the mobile shield's certificate.
    RenewShield: POST "/api/shield/renew", Json(shield::ShieldRenew) -> Json(shield::ShieldRenewed);
    /// Records that the phone holds its renewed certificate.
    FinishShieldRenewal: POST "/api/shield/renew/finish", Json(shield::ShieldRenewFinish) -> Json(shield::ShieldStatus);

    // The staff console (/admin).
    /// Starts a staff sign-in with a security key.
    StartStaffSignIn: POST "/api/admin/sign-in/start", Json(admin::StartStaffSignIn) -> Json(account::KeySignInChallenge);
    /// Finishes a staff sign-in.
    FinishStaffSignIn: POST "/api/admin/sign-in/finish", Json(account::FinishKeySignIn) -> Json(admin::StaffSession);
    /// Starts a staff member's enrolment of a security key (from the invitation).
    StartEnrolment: POST "/api/admin/enrol/start", Json(admin::StartEnrolment) -> Json(account::KeyRegistrationChallenge);
    /// Finishes the enrolment and signs the staff member in.
    FinishEnrolment: POST "/api/admin/enrol/finish", Json(admin::FinishEnrolment) -> Json(admin::StaffSession);
    /// The signed-in staff member's session.
    CurrentStaffSession: GET "/api/admin/session", Nothing -> Json(admin::StaffSession);
    /// The console's sections this staff member may open.
    ListSections: GET "/api/admin/sections", Nothing -> Json(Vec<admin::SectionEntry>);
    /// 工作台's figures.
    GetDashboard: GET "/api/admin/dashboard", Nothing -> Json(dashboard::Dashboard);
    /// Ends the staff session.
    StaffSignOut: POST "/api/admin/sign-out", Nothing -> NoContent;
    /// The staff list.
    ListStaff: GET "/api/admin/staff", Query(admin::StaffQuery) -> Json(admin::Page<admin::StaffMember>);
    /// Invites a staff member.
    CreateStaff: POST "/api/admin/staff", Json(admin::CreateStaffRequest) -> Json(admin::StaffCreated);
    /// Changes a staff member's role.
    ChangeRole: PUT "/api/admin/staff/{id}/role", Json(admin::ChangeRoleRequest) -> Json(admin::StaffMember);
    /// Disables a staff member.
    DisableStaff: POST "/api/admin/staff/{id}/disable", Nothing -> Json(admin::StaffMember);
    /// The SMS outbox.
    SmsOutbox: GET "/api/admin/sms-outbox", Query(admin::OutboxQuery) -> Json(admin::Page<admin::OutboxMessage>);
    /// The audit trail.
    AuditTrail: GET "/api/admin/audit", Query(admin::AuditQuery) -> Json(admin::Page<admin::AuditEntry>);
    /// The audit trail as CSV.
    AuditCsv: GET "/api/admin/audit.csv", Query(admin::AuditQuery) -> File("text/csv");
    /// The review queue.
    ReviewQueue: GET "/api/admin/applications", Query(admin::QueueQuery) -> Json(admin::Page<apply::ReviewQueueItem>);
    /// One request, as the reviewer sees it.
    StaffViewRequest: GET "/api/admin/applications/{id}", Nothing -> Json(request::RequestView);
    /// One of a request's documents.
    StaffDownloadDocument: GET "/api/admin/applications/{id}/documents/{kind}", Nothing -> File("application/pdf image/jpeg image/png");
    /// Approves or refuses a request, with reasons.
    Review: POST "/api/admin/applications/{id}/review", Json(apply::ReviewDecision) -> Json(request::RequestView);
    /// A request's application form as a PDF.
    StaffApplicationForm: GET "/api/admin/applications/{id}/form.pdf", Nothing -> File("application/pdf");
    /// Records a request's parcel.
    Ship: POST "/api/admin/applications/{id}/shipment", Json(apply::ShipmentRequest) -> Json(request::RequestView);
    /// The requests awaiting a parcel.
    AwaitingShipment: GET "/api/admin/shipments", Query(admin::ShipmentQuery) -> Json(admin::Page<request::RequestView>);
    /// Accounts and their billing, by phone number.
    FindAccounts: GET "/api/admin/accounts", Query(admin::AccountQuery) -> Json(Vec<apply::AccountBilling>);
    /// Sets an account's billing (enterprise settlement).
    SetBilling: PUT "/api/admin/accounts/{id}/billing", Json(apply::SetBilling) -> NoContent;
    /// The invoices to issue.
    InvoiceQueue: GET "/api/admin/invoices", Query(admin::InvoiceQuery) -> Json(admin::Page<apply::InvoiceView>);
    /// The invoices as CSV.
    InvoiceCsv: GET "/api/admin/invoices.csv", Query(admin::InvoiceQuery) -> File("text/csv");
    /// Issues an invoice.
    IssueInvoice: POST "/api/admin/invoices/{id}/issue", Nothing -> Json(apply::InvoiceView);
    /// An invoice as a PDF.
    StaffInvoicePdf: GET "/api/admin/invoices/{id}/pdf", Nothing -> File("application/pdf");
    /// The bank transfers to confirm.
    PendingTransfers: GET "/api/admin/transfers", Query(admin::TransferQuery) -> Json(admin::Page<admin::PendingTransfer>);
    /// The bank transfers as CSV.
    TransferCsv: GET "/api/admin/transfers.csv", Query(admin::TransferQuery) -> File("text/csv");
    /// A bank transfer's voucher.
    TransferVoucher: GET "/api/admin/transfers/{no}/voucher", Nothing -> File("application/pdf image/jpeg image/png");
    /// Confirms a bank transfer arrived.
    ConfirmTransfer: POST "/api/admin/transfers/{no}/confirm", Nothing -> NoContent;
    /// A month's settlement statement (月结对账单).
    Statement: GET "/api/admin/statements/{month}", Nothing -> Json(payment::Statement);
    /// A month's settlement statement as CSV.
    StatementCsv: GET "/api/admin/statement.csv", Query(admin::MonthQuery) -> File("text/csv");
    /// The catalogue of projects, types, validities and prices.
    FullCatalogue: GET "/api/admin/catalogue", Nothing -> Json(Vec<apply::Project>);
    /// Adds a project.
    AddProject: POST "/api/admin/catalogue/projects", Json(apply::NewProject) -> Json(apply::Project);
    /// Adds a certificate type to a project.
    AddType: POST "/api/admin/catalogue/projects/{id}/types", Json(apply::NewType) -> Json(apply::CertificateType);
    /// Changes a certificate type's settings.
    ChangeType: PUT "/api/admin/catalogue/types/{id}", Json(apply::TypeSettings) -> Json(apply::CertificateType);
    /// Adds a validity to a certificate type.
    AddValidity: POST "/api/admin/catalogue/types/{id}/validity", Json(apply::NewValidity) -> Json(apply::ValidityOption);
    /// Sets a validity's price.
    SetPrice: PUT "/api/admin/catalogue/validity/{id}", Json(apply::SetPrice) -> Json(apply::ValidityOption);
    /// Sets a certificate type's reissue price.
    SetReissuePrice: PUT "/api/admin/catalogue/types/{id}/reissue-price", Json(apply::SetPrice) -> Json(apply::CertificateType);
    /// Customers, by name, phone or acceptance number.
    SearchCustomers: GET "/api/admin/customers", Query(admin::CustomerQuery) -> Json(admin::Page<admin::CustomerSummary>);
    /// A customer's file: account, requests, certificates, notes.
    GetCustomerFile: GET "/api/admin/customers/{id}", Nothing -> Json(admin::CustomerFile);
    /// Adds a note to a request.
    AddRequestNote: POST "/api/admin/requests/{id}/notes", Json(admin::NewRequestNote) -> Json(admin::RequestNote);
    /// Sends a request's download code again.
    ResendDownloadCode: POST "/api/admin/requests/{id}/download-code", Nothing -> Json(admin::DownloadCodeSent);
    /// Certificates by serial number.
    FindCertificates: GET "/api/admin/certificates", Query(admin::SerialQuery) -> Json(Vec<revoke::StaffCertificateView>);
    /// Freezes a certificate.
    StaffFreeze: POST "/api/admin/certificates/{uid}/freeze", Json(freeze::StaffFreeze) -> NoContent;
    /// Unfreezes a certificate.
    StaffUnfreeze: POST "/api/admin/certificates/{uid}/unfreeze", Json(freeze::StaffFreeze) -> NoContent;
    /// Asks for a certificate's revocation (a second staff member decides).
    AskRevocation: POST "/api/admin/certificates/{uid}/revocations", Json(revoke::StaffRevocationRequest) -> Json(revoke::StaffRevocationView);
    /// The revocations asked for.
    ListRevocations: GET "/api/admin/revocations", Nothing -> Json(Vec<revoke::StaffRevocationView>);
    /// Decides a revocation asked for.
    DecideRevocation: POST "/api/admin/revocations/{id}/decision", Json(revoke::StaffRevocationDecision) -> Json(revoke::StaffRevocationView);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_filled_in_order_and_encoded() {
        assert_eq!(OfferChange::path(&["c-1"]), "/api/change/c-1");
        assert_eq!(UploadDocument::path(&["r 1", "licence"]), "/api/applications/r%201/documents/licence");
        assert_eq!(fill("/api/x/{a}/y", &["a/b"]), "/api/x/a%2Fb/y");
        assert_eq!(parameters(StaffDownloadDocument::PATH).collect::<Vec<_>>(), ["id", "kind"]);
    }

    #[test]
    fn staff_paths_are_the_admin_api() {
        let is_staff = is_staff_path;
        assert!(is_staff(ListStaff::PATH));
        assert!(is_staff(StartStaffSignIn::PATH));
        assert!(is_staff(&ChangeRole::path(&["s-1"])));
        assert!(!is_staff("/api/administrator"));
        assert!(!is_staff(GetProfile::PATH));
        assert!(!is_staff("/admin"));
        // The declarations agree on which endpoints are the staff's.
        for op in ALL {
            assert_eq!(is_staff(op.path), op.is_staff(), "{}", op.name);
        }
    }

    #[test]
    fn a_request_is_its_path_query_and_body() {
        assert_eq!(request::<SignOut>(&[], &()), Some(("/api/sign-out".to_owned(), Some("{}".to_owned()))));
        assert_eq!(request::<GetMyCertificate>(&["c 1"], &()), Some(("/api/my-certificates/c%201".to_owned(), None)));
        let q = crate::admin::SerialQuery { serial: "0A".into() };
        assert_eq!(request::<FindCertificates>(&[], &q), Some(("/api/admin/certificates?serial=0A".to_owned(), None)));
        let empty = crate::directory::BulletinQuery::default();
        assert_eq!(request::<Bulletin>(&[], &empty), Some(("/api/public/bulletin?q=".to_owned(), None)));
    }

    #[test]
    fn every_endpoint_is_declared_once_under_the_api() {
        let mut seen = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for op in ALL {
            assert!(op.path.starts_with("/api/"), "{}", op.name);
            assert!(seen.insert((op.method, op.path)), "{} {} twice", op.method.as_str(), op.path);
            assert!(names.insert(op.name), "{} twice", op.name);
            assert!(!op.summary.is_empty(), "{} has no summary", op.name);
            // A GET carries no body, and only a GET reads a query.
            match op.carries {
                Carries::Json | Carries::File => assert_ne!(op.method, Method::Get, "{}", op.name),
                Carries::Query => assert_eq!(op.method, Method::Get, "{}", op.name),
                Carries::Nothing => {}
            }
        }
    }
}
