//! E-mail over SMTP (lettre). With no SMTP server configured, messages go to the outbox
//! (channel `email`) instead, so nothing is lost and administrators can still read them.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Mailer {
    outbox: super::Outbox,
    from: Mailbox,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Mailer {
    pub fn from_config(outbox: super::Outbox, config: &crate::Config) -> anyhow::Result<Mailer> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| anyhow::anyhow!("CERTDESK_MAIL_FROM: {e}"))?;
        let smtp = match config.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            // smtp://host:port (plain, for a relay on the same machine), smtp://…?tls=required, smtps://…
            Some(url) => Some(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build()),
            None => None,
        };
        Ok(Mailer { outbox, from, smtp })
    }

    /// Sends one plain-text message (UTF-8, so Chinese text survives every hop).
    pub async fn send(&self, to: &str, template: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        self.send_with(to, template, subject, body, None, &[]).await
    }

    /// Sends a message that carries one-time `codes` (kept masked in a non-sandbox outbox).
    pub async fn send_codes(
        &self,
        to: &str,
        template: &str,
        subject: &str,
        body: &str,
        codes: &[&str],
    ) -> anyhow::Result<()> {
        self.send_with(to, template, subject, body, None, codes).await
    }

    /// Sends a message with one attachment `(file name, content type, bytes)`, if any, and
    /// the one-time `codes` its body carries.
    pub async fn send_with(
        &self,
        to: &str,
        template: &str,
        subject: &str,
        body: &str,
        attachment: Option<(&str, &str, Vec<u8>)>,
        codes: &[&str],
    ) -> anyhow::Result<()> {
        use lettre::message::{Attachment, MultiPart, SinglePart};
        let Some(smtp) = &self.smtp else {
            let note =
                attachment.as_ref().map(|(n, _, b)| format!("\n\n[附件：{n}，{} 字节]", b.len())).unwrap_or_default();
            self.outbox.keep("email", to, template, &format!("{subject}\n\n{body}{note}"), codes).await?;
            return Ok(());
        };
        let builder = Message::builder().from(self.from.clone()).to(to.parse()?).subject(subject);
        let message = match attachment {
            None => builder.header(ContentType::TEXT_PLAIN).body(body.to_owned())?,
            Some((name, mime, bytes)) => builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body.to_owned()))
                    .singlepart(Attachment::new(name.to_owned()).body(bytes, ContentType::parse(mime)?)),
            )?,
        };
        smtp.send(message).await?;
        Ok(())
    }
}
