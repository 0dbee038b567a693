//! 通知消息: the user centre's messages. Today one kind, the expiry notice sent 90, 30 and
//! 7 days before a certificate expires, each linking to 延期 (renew) for that certificate.

use serde::{Deserialize, Serialize};

/// Days before expiry at which a notice goes out, least urgent first.
pub const THRESHOLDS: [i32; 3] = [90, 30, 7];

/// One message in the user centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Notice {
    pub id: String,
    /// The certificate about to expire.
    pub certificate_uid: String,
    /// Its subject, as the certificate names it.
    pub subject: String,
    /// 90, 30 or 7: the notice's threshold.
    pub threshold_days: i32,
    /// RFC 3339.
    pub not_after: String,
    /// The expiry date as the holder reads it (China Standard Time), `2027-01-31`: the
    /// date the SMS and the e-mail name.
    pub expires_on: String,
    /// RFC 3339.
    pub created_at: String,
    pub read: bool,
}

impl Notice {
    /// Where 延期 is done for this certificate.
    pub fn renew_path(&self) -> String {
        renew_path(&self.certificate_uid)
    }
}

/// The renewal page of a certificate: `/renew?uid=<uid>` (uids are UUIDs, nothing to escape).
pub fn renew_path(certificate_uid: &str) -> String {
    format!("/renew?uid={certificate_uid}")
}

/// `GET /api/notices`: newest first, with the number not yet read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NoticeList {
    pub notices: Vec<Notice>,
    pub unread: u64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn renew_link_names_the_certificate() {
        assert_eq!(super::renew_path("0b9f"), "/renew?uid=0b9f");
        assert!(super::THRESHOLDS.windows(2).all(|w| w[0] > w[1]), "least urgent first");
    }
}
