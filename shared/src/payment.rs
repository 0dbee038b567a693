//! Paying for an application by scanning a QR code (⑥ 扫码缴费), modelled on WeChat Pay
//! Native and Alipay precreate: an order, its `code_url` as a QR code, and its status, which
//! the wizard polls until the provider's notification has been recorded.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PaymentStatus {
    /// Waiting for the payer (WeChat Pay `NOTPAY`).
    NotPaid,
    Paid,
    /// Cancelled by the user or replaced by a new order.
    Closed,
    /// Not paid within its time (2 hours).
    Expired,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] =
        [PaymentStatus::NotPaid, PaymentStatus::Paid, PaymentStatus::Closed, PaymentStatus::Expired];
}

/// The way a customer pays by scanning on step ⑥ (seed 004 offers both, seed 002 支付宝).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PayWay {
    /// 微信支付 (WeChat Pay Native, API v3).
    Wechat,
    /// 支付宝 (Alipay 当面付, `alipay.trade.precreate`).
    Alipay,
}

impl PayWay {
    pub const ALL: [PayWay; 2] = [PayWay::Wechat, PayWay::Alipay];
}

/// `POST /api/applications/{id}/payment`: a QR order in the chosen way. Without a way, the
/// only way offered (several offered: the field is required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PaymentRequest {
    #[serde(default)]
    pub way: Option<PayWay>,
}

/// `GET /api/payments/ways`: the ways a customer may pay by QR code, in the order shown
/// (empty: only bank transfer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PaymentWays {
    pub ways: Vec<PayWay>,
}

/// An order as the wizard shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PaymentOrder {
    /// Our order number (商户订单号).
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub status: PaymentStatus,
    /// The way it is paid (none for a bank transfer).
    #[serde(default)]
    pub way: Option<PayWay>,
    /// What the QR code holds: the page a phone opens after scanning.
    pub code_url: String,
    /// The QR code of `code_url`, as SVG.
    pub qr_svg: String,
    /// RFC 3339.
    pub expires_at: String,
    pub paid_at: Option<String>,
}

/// The other way to pay (seed 002: 转账或电汇): our bank account and the amount, and once a
/// voucher (缴费凭证) is uploaded, the order it stands for until finance confirms the money
/// arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BankTransfer {
    pub application_id: String,
    /// 户名
    pub account_name: String,
    /// 账号
    pub account_no: String,
    /// 开户行
    pub bank: String,
    /// `None` until a voucher is uploaded.
    pub out_trade_no: Option<String>,
    pub amount_fen: i64,
    /// `None` until a voucher is uploaded.
    pub status: Option<PaymentStatus>,
    /// The uploaded voucher's file name.
    #[serde(default)]
    pub voucher_name: Option<String>,
}

/// One application on a settlement customer's monthly statement (大客户统一结算).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StatementLine {
    pub account_id: String,
    pub mobile: String,
    pub org_name: String,
    pub acceptance_no: String,
    pub certificate_type: String,
    pub amount_fen: i64,
    pub approved_at: String,
}

/// `GET /api/admin/statements/{yyyy-mm}`: approved settlement applications of the month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Statement {
    pub month: String,
    pub lines: Vec<StatementLine>,
    pub total_fen: i64,
}

crate::deserialize_by_name!(PaymentStatus);

crate::deserialize_by_name!(PayWay);
