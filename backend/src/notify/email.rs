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

impl Mailer {
    /// The outbox's database.
    pub(crate) fn outbox_db(&self) -> &sea_orm::DatabaseConnection {
        self.outbox.db()
    }

    /// Sends the outbox's e-mails that wait for the SMTP server (written inside a
    /// transaction, such as an expiry notice's), each at most once: a conditional UPDATE
    /// claims a message (`pending` → `sending`) before the send, and a refused send puts it
    /// back for the next round. Without an SMTP server there is nothing to relay.
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let Some(smtp) = &self.smtp else { return Ok(0) };
        let db = self.outbox.db();
        let set = |to: &'static str, from: &'static str, id: String| async move {
            super::move_relay(db, &id, from, to).await
        };
        let pending = super::waiting_for_relay(db, "email").await?;
        let mut sent = 0;
        for m in pending {
            if !set("sending", "pending", m.id.clone()).await? {
                continue; // Another server's relay took it.
            }
            let (subject, body) = m.body.split_once("\n\n").unwrap_or((m.body.as_str(), ""));
            let message = m.recipient.parse::<Mailbox>().map_err(anyhow::Error::from).and_then(|to| {
                Ok(Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body.to_owned())?)
            });
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, id = %m.id, "an outbox e-mail that cannot be sent");
                    set("failed", "sending", m.id.clone()).await?;
                    continue;
                }
            };
            match smtp.send(message).await {
                Ok(_) => {
                    set("sent", "sending", m.id.clone()).await?;
                    sent += 1;
                }
                Err(e) => {
                    tracing::warn!(error = %e, id = %m.id, "the SMTP server refused an e-mail; it is tried again");
                    set("pending", "sending", m.id.clone()).await?;
                }
            }
        }
        Ok(sent)
    }
}
