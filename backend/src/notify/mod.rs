//! Notifications: one interface for SMS and e-mail. SMS goes through an [`SmsGateway`]:
//! the Alibaba Cloud client ([`aliyun::AliyunSms`]), talking to the vendor or, by default, to
//! the built-in sandbox ([`sms_sandbox`]) that a development or staging server serves;
//! e-mail goes over SMTP with lettre, or to the outbox when no SMTP server is configured.
//! The outbox keeps one-time codes only on a server that may run sandboxes (development,
//! staging); anywhere else it keeps each code masked, and the real SMS gateway keeps no
//! copy of a message at all.

pub mod aliyun;
pub mod email;
pub mod sms;
pub mod sms_sandbox;

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr};

use crate::entity::outbox_message;
pub use sms::{SmsError, SmsGateway, SmsRequest, Template};

/// The messages CertDesk sends, in the seeds' wording.
pub struct Notifier {
    pub sms: Arc<dyn SmsGateway>,
    /// The SMS sandbox this server serves under `/sandbox/aliyun-sms/` (development and
    /// staging with `CERTDESK_SMS_SANDBOX`), if any.
    pub sms_sandbox: Option<Arc<sms_sandbox::SmsSandbox>>,
    pub email: email::Mailer,
}

impl Notifier {
    /// The configured gateways. With the SMS sandbox, the client is the real one, pointed at
    /// the sandbox (`{sandbox_url}/sandbox/aliyun-sms/`) with the sandbox's key from the
    /// database; without, it is pointed at the vendor with `CERTDESK_SMS_*`.
    pub async fn from_config(db: &DatabaseConnection, config: &crate::Config) -> anyhow::Result<Notifier> {
        let outbox = Outbox { db: db.clone(), keeps_codes: config.sandbox_allowed() };
        let (settings, sms_sandbox) = if config.sms.sandbox {
            let secret = sms_sandbox::access_key_secret(db).await?;
            let served = config
                .sandbox_allowed()
                .then(|| Arc::new(sms_sandbox::SmsSandbox::new(outbox.clone(), &config.sms.sign_name, config.staging)));
            (aliyun::Settings::sandbox(config, secret), served)
        } else {
            (aliyun::Settings::from_config(config)?, None)
        };
        Ok(Notifier {
            sms: Arc::new(aliyun::AliyunSms::new(settings)?),
            sms_sandbox,
            email: email::Mailer::from_config(outbox, config)?,
        })
    }

    /// Sends one SMS from a template.
    pub async fn sms(&self, mobile: &str, template: Template) -> Result<String, SmsError> {
        self.sms.send(SmsRequest::new(mobile, template)).await
    }

    /// Sends the SMS that transactions kept for the real gateway ([`keep_sms_for_relay`]),
    /// each at most once: a conditional UPDATE claims one (`pending` → `sending`) before the
    /// send. A request that never left (no connection, the vendor's throttling) goes back to
    /// `pending` for the next round; one that may have been sent (a timeout, the vendor's
    /// system error) stays `sending`, never sent twice; a refusal is `refused`.
    pub async fn relay_pending_sms(&self) -> anyhow::Result<usize> {
        let db = self.email.outbox_db();
        let set = |to: &'static str, from: &'static str, id: String| async move { move_relay(db, &id, from, to).await };
        let pending = waiting_for_relay(db, "sms").await?;
        let mut sent = 0;
        for m in pending {
            if !set("sending", "pending", m.id.clone()).await? {
                continue; // Another server's relay took it.
            }
            let params: std::collections::BTreeMap<String, String> =
                serde_json::from_str(m.params.as_deref().unwrap_or("{}")).unwrap_or_default();
            let Some(template) = Template::from_parts(&m.template, &params) else {
                tracing::warn!(id = %m.id, template = %m.template, "an outbox SMS that cannot be relayed");
                set("failed", "sending", m.id.clone()).await?;
                continue;
            };
            match self.sms(&m.recipient, template).await {
                Ok(_) => {
                    set("sent", "sending", m.id.clone()).await?;
                    sent += 1;
                }
                Err(e @ (SmsError::Unreachable(_) | SmsError::Throttling(_))) => {
                    tracing::warn!(error = %e, id = %m.id, "an SMS did not leave; it is tried again");
                    set("pending", "sending", m.id.clone()).await?;
                }
                Err(e @ (SmsError::Timeout(_) | SmsError::System(_) | SmsError::BadAnswer { .. })) => {
                    tracing::error!(error = %e, id = %m.id, "an SMS may or may not have been sent; it is not sent again");
                }
                Err(e) => {
                    tracing::error!(error = %e, id = %m.id, "the SMS gateway refused an SMS");
                    set("refused", "sending", m.id.clone()).await?;
                }
            }
        }
        Ok(sent)
    }
}

/// Up to 100 messages of `channel` (`sms`, `email`) waiting for their relay, oldest first.
async fn waiting_for_relay(db: &DatabaseConnection, channel: &str) -> Result<Vec<outbox_message::Model>, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Channel.eq(channel))
        .filter(outbox_message::Column::Relay.eq("pending"))
        .order_by_asc(outbox_message::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await
}

/// Moves a message's relay state from `from` to `to`; false when another server's relay
/// moved it first (claiming is `pending` → `sending`).
async fn move_relay(db: &DatabaseConnection, id: &str, from: &str, to: &str) -> Result<bool, DbErr> {
    let done = crate::domain::exec(
        db,
        "UPDATE outbox_message SET relay = $2 WHERE id = $1 AND relay = $3",
        vec![id.into(), to.into(), from.into()],
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps an SMS (without one-time codes) for the real gateway to carry after the caller's
/// transaction commits ([`Notifier::relay_pending_sms`]): its text for the record, its
/// template and parameters for the request.
pub async fn keep_sms_for_relay(
    db: &impl ConnectionTrait,
    recipient: &str,
    template: &Template,
    body: &str,
) -> Result<(), DbErr> {
    use sea_orm::EntityTrait;
    let params = serde_json::to_string(&template.params()).map_err(|e| DbErr::Custom(e.to_string()))?;
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        id: Set(crate::domain::new_id()),
        channel: Set("sms".to_owned()),
        recipient: Set(recipient.to_owned()),
        template: Set(template.code().to_owned()),
        body: Set(body.to_owned()),
        created_at: Set(Utc::now()),
        relay: Set(Some("pending".to_owned())),
        params: Set(Some(params)),
    })
    .exec(db)
    .await
    .map(|_| ())
}

/// The outbox table, where the sandboxes deliver (administrators read it at `/admin`).
///
/// The rule: one-time codes (verification codes, download authorization codes) are kept
/// whole only in the sandbox, that is on a development or staging server, whose outbox is
/// the only way the codes reach anyone. Anywhere else each code is masked before the message
/// is kept, so the outbox never becomes a second place to read a code from. (A production
/// server refuses to start with a sandbox at all, see `startup`; this holds even so for
/// whatever builds the state without `serve`.)
#[derive(Clone)]
pub struct Outbox {
    db: DatabaseConnection,
    keeps_codes: bool,
}

/// What stands in for a one-time code the outbox does not keep.
pub const MASK: &str = "******";

impl Outbox {
    /// Keeps one accepted message; `codes` are the one-time codes in its body.
    pub async fn keep(
        &self,
        channel: &str,
        recipient: &str,
        template: &str,
        body: &str,
        codes: &[&str],
    ) -> Result<(), DbErr> {
        let body = if self.keeps_codes { body.to_owned() } else { mask(body, codes) };
        keep(&self.db, channel, recipient, template, &body).await
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// `body` with each of `codes` replaced by [`MASK`].
pub fn mask(body: &str, codes: &[&str]) -> String {
    codes.iter().filter(|c| !c.is_empty()).fold(body.to_owned(), |b, c| b.replace(c, MASK))
}

/// Keeps one message in the outbox table through `db`, which may be the caller's
/// transaction: the message exists exactly when the caller's change commits. Only for
/// messages without one-time codes (they are kept as given).
pub async fn keep_in(
    db: &impl ConnectionTrait,
    channel: &str,
    recipient: &str,
    template: &str,
    body: &str,
) -> Result<(), DbErr> {
    keep_relayed(db, channel, recipient, template, body, None).await
}

/// [`keep_in`] for an e-mail that the SMTP server must still carry: the relay
/// ([`email::Mailer::relay_pending`]) sends it after the caller's change commits.
pub async fn keep_for_relay(
    db: &impl ConnectionTrait,
    recipient: &str,
    template: &str,
    body: &str,
) -> Result<(), DbErr> {
    keep_relayed(db, "email", recipient, template, body, Some("pending")).await
}

async fn keep(
    db: &impl ConnectionTrait,
    channel: &str,
    recipient: &str,
    template: &str,
    body: &str,
) -> Result<(), DbErr> {
    keep_relayed(db, channel, recipient, template, body, None).await
}

/// Keeps one accepted message in the outbox table.
async fn keep_relayed(
    db: &impl ConnectionTrait,
    channel: &str,
    recipient: &str,
    template: &str,
    body: &str,
    relay: Option<&str>,
) -> Result<(), DbErr> {
    use sea_orm::EntityTrait;
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        id: Set(crate::domain::new_id()),
        channel: Set(channel.to_owned()),
        recipient: Set(recipient.to_owned()),
        template: Set(template.to_owned()),
        body: Set(body.to_owned()),
        created_at: Set(Utc::now()),
        relay: Set(relay.map(str::to_owned)),
        params: Set(None),
    })
    .exec(db)
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mask_hides_each_code_and_nothing_else() {
        assert_eq!(super::mask("验证码：123456，5分钟内有效", &["123456"]), "验证码：******，5分钟内有效");
        assert_eq!(super::mask("受理号：A1，授权码：XY", &["XY", ""]), "受理号：A1，授权码：******");
    }
}
