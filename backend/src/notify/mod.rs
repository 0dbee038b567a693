//! Notifications: one interface for SMS and e-mail. SMS goes through an [`SmsGateway`]
//! (the sandbox gateway by default; a real vendor is one more implementation of the trait);
//! e-mail goes over SMTP with lettre, or to the outbox when no SMTP server is configured.

pub mod email;
pub mod sms;

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr};

use crate::entity::outbox_message;
pub use sms::{SmsError, SmsGateway, SmsRequest, Template};

/// The messages CertDesk sends, in the seeds' wording.
pub struct Notifier {
    pub sms: Arc<dyn SmsGateway>,
    pub email: email::Mailer,
}

impl Notifier {
    pub fn from_config(db: &DatabaseConnection, config: &crate::Config) -> anyhow::Result<Notifier> {
        Ok(Notifier {
            sms: Arc::new(sms::SandboxGateway::new(db.clone())?),
            email: email::Mailer::from_config(db.clone(), config)?,
        })
    }

    /// Sends one SMS from a template.
    pub async fn sms(&self, mobile: &str, template: Template) -> Result<String, SmsError> {
        self.sms.send(SmsRequest::new(mobile, template)).await
    }
}

/// Keeps one accepted message in the outbox table.
pub async fn keep(db: &impl ConnectionTrait, channel: &str, recipient: &str, template: &str, body: &str) -> Result<(), DbErr> {
    use sea_orm::EntityTrait;
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        id: Set(crate::domain::new_id()),
        channel: Set(channel.to_owned()),
        recipient: Set(recipient.to_owned()),
        template: Set(template.to_owned()),
        body: Set(body.to_owned()),
        created_at: Set(Utc::now()),
    })
    .exec(db)
    .await
    .map(|_| ())
}
