//! E-mail over SMTP (lettre). With no SMTP server configured, messages go to the outbox
//! (channel `email`) instead, so nothing is lost and administrators can still read them.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;

pub struct Mailer {
    db: DatabaseConnection,
    from: Mailbox,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Mailer {
    pub fn from_config(db: DatabaseConnection, config: &crate::Config) -> anyhow::Result<Mailer> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| anyhow::anyhow!("CERTDESK_MAIL_FROM: {e}"))?;
        let smtp = match config.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            // smtp://host:port (plain, for a relay on the same machine), smtp://…?tls=required, smtps://…
            Some(url) => Some(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build()),
            None => None,
        };
        Ok(Mailer { db, from, smtp })
    }

    /// Sends one plain-text message (UTF-8, so Chinese text survives every hop).
    pub async fn send(&self, to: &str, template: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let Some(smtp) = &self.smtp else {
            super::keep(&self.db, "email", to, template, &format!("{subject}\n\n{body}")).await?;
            return Ok(());
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())?;
        smtp.send(message).await?;
        Ok(())
    }
}
