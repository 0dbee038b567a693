//! The staff side on the wire: roles, staff sign-in with a security key, the SMS outbox of
//! the sandbox gateway and the audit trail.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

/// Staff roles. A role grants a fixed set of permissions; see the server's `Permission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StaffRole {
    /// 审核
    Reviewer,
    /// 客服
    CustomerService,
    /// 财务
    Finance,
    /// 管理员
    Administrator,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] =
        [StaffRole::Reviewer, StaffRole::CustomerService, StaffRole::Finance, StaffRole::Administrator];
}

/// A staff member as the admin area shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffMember {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// `None` for a role this version does not know (it grants nothing).
    pub role: Option<StaffRole>,
    /// Has a security key: can sign in.
    pub enrolled: bool,
    /// Offboarded (停用): cannot sign in; sessions and keys are gone.
    #[serde(default)]
    pub disabled: bool,
    /// Their own phone: requests made with it are not theirs to review.
    #[serde(default)]
    pub mobile: Option<String>,
    pub created_at: String,
}

/// The signed-in staff member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffSession {
    pub staff: StaffMember,
    pub csrf_token: String,
}

/// `POST /api/admin/staff`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreateStaffRequest {
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    /// Their own phone (a reviewer never reviews a request made with it).
    #[serde(default)]
    pub mobile: Option<crate::Mobile>,
}

/// A new staff member and the link they enrol their security key with (valid 24 hours).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffCreated {
    pub staff: StaffMember,
    pub enrol_url: String,
}

/// `PUT /api/admin/staff/{id}/role`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangeRoleRequest {
    pub role: StaffRole,
}

/// `POST /api/admin/sign-in/start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartStaffSignIn {
    pub username: String,
}

/// `POST /api/admin/enrol/start`: the token from the enrolment link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartEnrolment {
    pub token: String,
}

/// `POST /api/admin/enrol/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FinishEnrolment {
    pub token: String,
    pub challenge_id: String,
    #[cfg_attr(feature = "openapi", schemars(with = "serde_json::Value"))]
    pub credential: webauthn_rs_proto::RegisterPublicKeyCredential,
}

/// One message the sandbox SMS gateway (or the e-mail fallback) accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OutboxMessage {
    pub id: String,
    /// `sms` or `email`.
    pub channel: String,
    /// Phone number or e-mail address.
    pub recipient: String,
    pub template: String,
    pub body: String,
    pub created_at: String,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub address: String,
    pub detail: serde_json::Value,
}

/// What staff may do. Every `/api/admin` handler names one through its extractor, and the
/// console shows a role only the [`Section`]s its permissions open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create staff and change roles.
    ManageStaff,
    /// Read the SMS / e-mail outbox of the sandbox gateway. It holds live codes, so only
    /// administrators may: a reader could otherwise pass any phone's ownership check.
    ReadOutbox,
    /// Read the audit trail.
    ReadAudit,
    /// Review requests.
    Review,
    /// Payments and invoices.
    Finance,
    /// The catalogue, prices and each customer's billing mode.
    ManageCatalogue,
    /// Record couriers and tracking numbers.
    Ship,
    /// Freeze, unfreeze, and ask for or approve a revocation by the CA (a revocation needs a
    /// second member with this permission).
    Revoke,
    /// 客服: find a customer and read their requests, certificates and messages (each look-up
    /// audited), send a new download authorization code, note on a request.
    ServeCustomers,
}

impl StaffRole {
    /// Whether this role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        matches!(
            (self, p),
            (StaffRole::Administrator, _)
                | (StaffRole::Reviewer, Permission::Review | Permission::Revoke)
                | (StaffRole::Finance, Permission::Finance)
                | (StaffRole::CustomerService, Permission::Ship | Permission::ServeCustomers)
        )
    }

    /// The console's sections this role may open, in the side navigation's order.
    pub fn sections(self) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| self.opens(*s))
    }

    /// Whether this role may open `section`.
    pub fn opens(self, section: Section) -> bool {
        section.permission().is_none_or(|p| self.allows(p))
    }
}

/// A section of the staff console: a page of its own under `/admin/…`, reached from the
/// side navigation. The daily work is one bundle (`/admin/…`); the settings another
/// (`/admin/settings/…`, see [`crate::bundles::ADMIN_SETTINGS_PATH`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Section {
    /// 工作台: the charts of the member's work, the console's first page (`/admin`).
    Dashboard,
    /// 审核
    Review,
    /// 冻结与吊销
    Revocations,
    /// 邮寄
    Shipping,
    /// 客服
    Customers,
    /// 发票申请
    Invoices,
    /// 转账确认
    Transfers,
    /// 月结对账单
    Statements,
    /// 收费类型 (each customer's billing mode)
    Billing,
    /// 项目与证书类型
    Catalogue,
    /// 价格
    Prices,
    /// 员工
    Staff,
    /// 短信发件箱
    Outbox,
    /// 审计日志
    Audit,
}

impl Section {
    /// In the side navigation's order.
    pub const ALL: [Section; 14] = [
        Section::Dashboard,
        Section::Review,
        Section::Revocations,
        Section::Shipping,
        Section::Customers,
        Section::Invoices,
        Section::Transfers,
        Section::Statements,
        Section::Catalogue,
        Section::Prices,
        Section::Billing,
        Section::Staff,
        Section::Outbox,
        Section::Audit,
    ];

    /// The page's address (no query string).
    pub fn path(self) -> &'static str {
        match self {
            Section::Dashboard => crate::bundles::ADMIN_DASHBOARD_PATH,
            Section::Review => "/admin/review",
            Section::Revocations => "/admin/revocations",
            Section::Shipping => "/admin/shipping",
            Section::Customers => "/admin/customers",
            Section::Invoices => "/admin/invoices",
            Section::Transfers => "/admin/transfers",
            Section::Statements => "/admin/statements",
            Section::Billing => "/admin/settings/billing",
            Section::Catalogue => "/admin/settings/catalogue",
            Section::Prices => "/admin/settings/prices",
            Section::Staff => "/admin/settings/staff",
            Section::Outbox => "/admin/settings/outbox",
            Section::Audit => "/admin/settings/audit",
        }
    }

    /// The section a page address names (a trailing slash allowed).
    pub fn from_path(path: &str) -> Option<Section> {
        let p = crate::bundles::normal(path);
        Section::ALL.into_iter().find(|s| s.path() == p)
    }

    /// Whether it belongs to the settings bundle.
    pub fn is_settings(self) -> bool {
        crate::bundles::is_admin_settings_path(self.path())
    }

    /// The permission that opens it: its lists and actions need the same one on the server.
    /// `None`: every member's (工作台, whose charts each need their own, see
    /// [`crate::dashboard::ChartKind::permission`]).
    pub fn permission(self) -> Option<Permission> {
        Some(match self {
            Section::Dashboard => return None,
            Section::Review => Permission::Review,
            Section::Revocations => Permission::Revoke,
            Section::Shipping => Permission::Ship,
            Section::Customers => Permission::ServeCustomers,
            Section::Invoices | Section::Transfers | Section::Statements => Permission::Finance,
            Section::Billing | Section::Catalogue | Section::Prices => Permission::ManageCatalogue,
            Section::Staff => Permission::ManageStaff,
            Section::Outbox => Permission::ReadOutbox,
            Section::Audit => Permission::ReadAudit,
        })
    }
}

/// `GET /api/admin/sections`: one entry of the side navigation, for the signed-in member's
/// role only, with how many items wait in it (`None` for a section that is not a queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SectionEntry {
    pub section: Section,
    pub waiting: Option<u64>,
}

#[cfg(test)]
mod section_tests {
    use super::*;

    #[test]
    fn an_audit_query_goes_through_the_address_and_back() {
        let q = AuditQuery {
            actor: "staff:李 四&x".into(),
            action: "request_approved".into(),
            from: "2026-12-01".into(),
            page: Some(3),
            ..Default::default()
        };
        let s = q.to_query();
        assert!(s.starts_with("?actor=") && !s.contains("subject") && !s.contains(' '), "{s}");
        assert_eq!(AuditQuery::from_query(&s), q);
        assert_eq!(AuditQuery::default().to_query(), "");
        let p = Page { items: vec![1, 2], total: 101, page: 1, per_page: 50 };
        assert_eq!(p.pages(), 3);
        assert_eq!(Page::<u8> { items: vec![], total: 0, page: 1, per_page: 50 }.pages(), 1);
    }

    #[test]
    fn a_sort_goes_through_the_address_and_back() {
        assert_eq!(Sort::<InvoiceColumn>::parse(""), Some(InvoiceColumn::DEFAULT));
        let by_amount = Sort::<InvoiceColumn>::parse("-amount").unwrap();
        assert_eq!(by_amount, Sort { column: InvoiceColumn::Amount, descending: true });
        assert_eq!(Sort::parse(&by_amount.param()), Some(by_amount));
        assert_eq!(Sort::<InvoiceColumn>::parse("amount; drop table"), None);
        assert_eq!(Sort::<InvoiceColumn>::parse("--amount"), None);
        // A heading clicked twice turns its order round; another heading starts ascending.
        assert!(!by_amount.by(InvoiceColumn::Amount).descending);
        assert_eq!(by_amount.by(InvoiceColumn::Amount).by(InvoiceColumn::Amount), by_amount);
        assert_eq!(by_amount.by(InvoiceColumn::Title), Sort { column: InvoiceColumn::Title, descending: false });
        for c in CustomerColumn::ALL {
            assert_eq!(Sort::<CustomerColumn>::parse(c.as_str()).map(|s| s.column), Some(*c));
        }
        let q = QueueQuery {
            kind: "renew".into(),
            q: "天津".into(),
            sort: "-kind".into(),
            page: Some(3),
            ..Default::default()
        };
        assert_eq!(QueueQuery::from_query(&q.to_query()), q);
    }

    #[test]
    fn each_section_has_one_address_in_its_bundle() {
        for s in Section::ALL {
            assert_eq!(Section::from_path(s.path()), Some(s));
            assert_eq!(Section::from_path(&format!("{}/", s.path())), Some(s));
            let bundles = [
                crate::bundles::is_admin_dashboard_path(s.path()),
                crate::bundles::is_admin_path(s.path()),
                crate::bundles::is_admin_settings_path(s.path()),
            ];
            assert_eq!(bundles.iter().filter(|b| **b).count(), 1, "{s:?}");
            assert_eq!(bundles[2], s.is_settings(), "{s:?}");
            assert_eq!(bundles[0], s == Section::Dashboard, "{s:?}");
        }
        assert_eq!(Section::from_path("/admin"), Some(Section::Dashboard));
        assert_eq!(Section::from_path("/admin/"), Some(Section::Dashboard));
        assert_eq!(Section::from_path("/admin/settings"), None);
    }

    #[test]
    fn roles_grant_their_permissions_only() {
        use Permission::*;
        let all = [ManageStaff, ReadOutbox, ReadAudit, Review, Finance, ManageCatalogue, Ship, Revoke, ServeCustomers];
        let allows = |r: StaffRole, p: Permission| r.allows(p);
        for p in all {
            assert!(allows(StaffRole::Administrator, p));
        }
        assert_eq!(all.iter().filter(|p| allows(StaffRole::Reviewer, **p)).count(), 2);
        assert!(allows(StaffRole::Reviewer, Review) && allows(StaffRole::Reviewer, Revoke));
        assert!(!allows(StaffRole::CustomerService, Revoke) && !allows(StaffRole::Finance, Revoke));
        assert!(!allows(StaffRole::CustomerService, ReadOutbox), "the outbox holds live codes");
        assert!(allows(StaffRole::CustomerService, ServeCustomers) && !allows(StaffRole::Reviewer, ServeCustomers));
        assert!(!allows(StaffRole::CustomerService, ReadAudit));
        assert!(allows(StaffRole::Finance, Finance));
        assert!(!allows(StaffRole::Finance, ManageStaff));
    }

    #[test]
    fn each_role_sees_the_sections_of_its_permissions_only() {
        use Section::*;
        let of = |r: StaffRole| r.sections().collect::<Vec<_>>();
        // 工作台 first for everyone; its charts are each role's own.
        assert_eq!(of(StaffRole::Reviewer), [Dashboard, Review, Revocations]);
        assert_eq!(of(StaffRole::CustomerService), [Dashboard, Shipping, Customers]);
        assert_eq!(of(StaffRole::Finance), [Dashboard, Invoices, Transfers, Statements]);
        assert_eq!(of(StaffRole::Administrator), Section::ALL);
    }
}

/// One page of a list the server pages: the rows, how many match in all, and where this
/// page is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// From 1.
    pub page: u64,
    pub per_page: u64,
}

impl<T> Page<T> {
    /// How many pages the matching rows fill (at least one, for "page 1 of 1").
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }

    /// The same page with other items (the rows made into what the list shows).
    pub fn with<U>(&self, items: Vec<U>) -> Page<U> {
        Page { items, total: self.total, page: self.page, per_page: self.per_page }
    }
}

/// Rows per page when a list is asked for without `per_page`.
pub const PER_PAGE: u64 = 50;
/// The most rows one page may ask for.
pub const MAX_PER_PAGE: u64 = 200;

/// `GET /api/admin/audit` and `GET /api/admin/audit.csv`: the audit trail's filters, each
/// optional (empty means any). Also the console's query string, so that a reload or a
/// shared link shows the same rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct AuditQuery {
    /// Who: `staff:…`, `customer:…`, `anonymous`, `system` (exactly).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub actor: String,
    /// What: `request_approved`, `certificate_revoked`, … (exactly).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// On what: an acceptance number, a serial, a phone, an id (exactly).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subject: String,
    /// From this day (UTC, `YYYY-MM-DD`), inclusive.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// To this day (UTC, `YYYY-MM-DD`), inclusive.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// From 1; the first page when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}

impl ListQuery for AuditQuery {}

/// `GET /api/admin/sms-outbox`: the outbox's filters, each optional, and the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct OutboxQuery {
    /// A phone number or e-mail address (exactly).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub recipient: String,
    /// `SMS_CD_REGISTER`, … (exactly).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub template: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}

impl ListQuery for OutboxQuery {}

/// A list's filters as the address's query string and back: the console keeps them there so
/// that a reload or a shared link shows the same rows, and the API reads the same names.
pub trait ListQuery: Serialize + serde::de::DeserializeOwned + Default {
    /// `?actor=…&page=2`, or `""` when nothing is asked.
    fn to_query(&self) -> String {
        match serde_urlencoded::to_string(self) {
            Ok(q) if !q.is_empty() => format!("?{q}"),
            _ => String::new(),
        }
    }

    /// From a query string (with or without its `?`); one that does not parse asks nothing.
    fn from_query(q: &str) -> Self {
        serde_urlencoded::from_str(q.strip_prefix('?').unwrap_or(q)).unwrap_or_default()
    }
}

/// A column a list sorts by, as the query string's `sort` names it.
pub trait SortColumn: Copy + Eq + Send + Sync + 'static {
    const ALL: &'static [Self];
    /// The order of a list asked without `sort`.
    const DEFAULT: Sort<Self>;
    fn as_str(self) -> &'static str;
}

/// The order of a list: by a column, ascending, or descending (`-amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<C> {
    pub column: C,
    pub descending: bool,
}

impl<C: SortColumn> Sort<C> {
    /// `submitted_at`, `-amount`; empty is the list's default order; an unknown column is `None`.
    pub fn parse(s: &str) -> Option<Sort<C>> {
        if s.is_empty() {
            return Some(C::DEFAULT);
        }
        let (descending, name) = match s.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, s),
        };
        C::ALL.iter().find(|c| c.as_str() == name).map(|&column| Sort { column, descending })
    }

    /// As the query string says it.
    pub fn param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.column.as_str())
    }

    /// What a click on `column`'s heading asks: the other direction of the same column, or
    /// another column ascending.
    pub fn by(self, column: C) -> Sort<C> {
        Sort { column, descending: column == self.column && !self.descending }
    }
}

/// A list's columns: the enum, its names in the query string, and the default order.
macro_rules! sort_columns {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }
        default $default:ident $descending:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl SortColumn for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const DEFAULT: Sort<Self> = Sort { column: $name::$default, descending: $descending };
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}

sort_columns! {
    /// 审核's queue: oldest submission first (the nearest deadline).
    QueueColumn { SubmittedAt = "submitted_at", AcceptanceNo = "acceptance_no", Kind = "kind" }
    default SubmittedAt false
}
sort_columns! {
    /// 邮寄: the longest waiting first.
    ShipmentColumn { DecidedAt = "decided_at", AcceptanceNo = "acceptance_no" }
    default DecidedAt false
}
sort_columns! {
    /// 发票申请: the longest waiting first.
    InvoiceColumn { RequestedAt = "requested_at", Amount = "amount", Title = "title" }
    default RequestedAt false
}
sort_columns! {
    /// 转账确认: the longest waiting first.
    TransferColumn { CreatedAt = "created_at", Amount = "amount", TradeNo = "trade_no" }
    default CreatedAt false
}
sort_columns! {
    /// 员工: in the order they were added.
    StaffColumn { CreatedAt = "created_at", Username = "username", DisplayName = "display_name" }
    default CreatedAt false
}
sort_columns! {
    /// 客户: the newest accounts first.
    CustomerColumn { RegisteredAt = "registered_at", Mobile = "mobile" }
    default RegisteredAt true
}

/// What a staff list is asked: its filters, search words, order and page. One type for the
/// lists below, so that the console carries one copy of the query-string code; each list
/// reads the filters it has and refuses the others by field ([`ListParams::filters`]).
///
/// - `GET /api/admin/applications` ([`QueueQuery`]): 审核's queue, by `kind` and `status`
///   (`submitted` or `resubmitted`), sorted by a [`QueueColumn`];
/// - `GET /api/admin/shipments` ([`ShipmentQuery`]): 邮寄, the approved requests still to be
///   posted, by a [`ShipmentColumn`];
/// - `GET /api/admin/invoices` and `/invoices.csv` ([`InvoiceQuery`]): 发票申请 by `status`
///   (`requested` or `issued`), by an [`InvoiceColumn`]; also found by unit (the title), tax
///   number and invoice number;
/// - `GET /api/admin/transfers` and `/transfers.csv` ([`TransferQuery`]): 转账确认, the
///   transfers whose voucher waits, by a [`TransferColumn`]; also found by trade number;
/// - `GET /api/admin/staff` ([`StaffQuery`]): 员工 by `role`, found by user name, name or
///   phone, by a [`StaffColumn`];
/// - `GET /api/admin/customers` ([`CustomerQuery`]): 客服's search (`q` required), by a
///   [`CustomerColumn`].
///
/// Requests are found (`q`, whole words) by acceptance number, phone (the account's or the
/// operator's), unit or holder name, or the serial of their certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ListParams {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub role: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub q: String,
    /// A column of the list's [`SortColumn`], `-` first for descending; the list's default
    /// order when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sort: String,
    /// From 1; the first page when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}

impl ListQuery for ListParams {}

impl ListParams {
    /// The filters asked that a list does not have (`has` names the ones it has).
    pub fn filters(&self, has: &[&str]) -> Vec<&'static str> {
        [("kind", &self.kind), ("status", &self.status), ("role", &self.role)]
            .into_iter()
            .filter(|(name, value)| !value.is_empty() && !has.contains(name))
            .map(|(name, _)| name)
            .collect()
    }
}

pub type QueueQuery = ListParams;
pub type ShipmentQuery = ListParams;
pub type InvoiceQuery = ListParams;
pub type TransferQuery = ListParams;
pub type StaffQuery = ListParams;
pub type CustomerQuery = ListParams;

/// A bank transfer waiting for finance to see the money (转账确认).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PendingTransfer {
    pub out_trade_no: String,
    pub application_id: String,
    pub acceptance_no: Option<String>,
    /// The unit or person the request is for.
    pub payer: Option<String>,
    pub amount_fen: i64,
    /// When the voucher was uploaded.
    pub created_at: String,
    pub voucher_name: Option<String>,
}

/// A customer account as 客服 finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CustomerSummary {
    pub id: String,
    /// The account's phone (its user name).
    pub mobile: String,
    /// `personal` or `organisation` (个人账户, 企业账户).
    pub kind: String,
    /// The person who registered it.
    pub name: String,
    pub org_name: Option<String>,
    pub registered_at: String,
}

/// A message the customer was sent, as 客服 may read it: one-time codes and download
/// authorization codes masked, whether or not they are still live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SentMessage {
    pub channel: String,
    pub recipient: String,
    pub template: String,
    pub body: String,
    pub sent_at: String,
}

/// A note staff recorded on a request (客服 备注).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RequestNote {
    pub request_id: String,
    pub acceptance_no: Option<String>,
    /// The staff member's display name.
    pub author: String,
    pub text: String,
    pub created_at: String,
}

/// `POST /api/admin/requests/{id}/notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewRequestNote {
    pub text: String,
}

/// The most characters a note keeps.
pub const NOTE_MAX_CHARS: usize = 500;

/// `GET /api/admin/customers/{id}`: what 客服 sees of one customer (the look-up is audited).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CustomerFile {
    pub customer: CustomerSummary,
    pub requests: Vec<crate::request::RequestView>,
    pub certificates: Vec<crate::revoke::StaffCertificateView>,
    /// Newest first, to the account's phone and to the operators named in its requests.
    pub messages: Vec<SentMessage>,
    /// Newest first.
    pub notes: Vec<RequestNote>,
}

/// `POST /api/admin/requests/{id}/download-code`: a new code was sent to the operator's phone
/// (and e-mail); the old one no longer works. Staff never see the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DownloadCodeSent {
    /// The operator's phone, masked (138****0000).
    pub sent_to: String,
}

/// `GET /api/admin/accounts?mobile=…`: accounts and their billing by phone number.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AccountQuery {
    #[serde(default)]
    pub mobile: String,
}

/// `GET /api/admin/certificates?serial=…`: certificates by serial number.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SerialQuery {
    #[serde(default)]
    pub serial: String,
}

/// `GET /api/admin/statement.csv?month=YYYY-MM`: a month's settlement statement.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MonthQuery {
    #[serde(default)]
    pub month: String,
}

crate::deserialize_by_name!(StaffRole);

crate::deserialize_by_name!(Section);
