//! The checks `serve` makes before it binds anything: a production server (neither `--dev`
//! nor `--staging`) refuses to start while a sandbox stands in for a real provider, and a
//! real SMS gateway's settings (key, secret file, templates file) must be complete.

use crate::config::Config;

/// A sandbox standing in for a real provider, and how to replace it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sandbox {
    /// The sandbox payment provider: anyone can "pay" on its public page.
    Payment,
    /// The sandbox SMS gateway: messages land in the outbox, none reaches a phone.
    Sms,
    /// No SMTP server: e-mail lands in the outbox, none reaches a mailbox.
    OutboxEmail,
}

impl Sandbox {
    fn explain(self) -> &'static str {
        match self {
            Sandbox::Payment => {
                "the sandbox payment providers (anyone can pay on their pages): set CERTDESK_PAYMENT_SANDBOX=false and configure WeChat Pay (CERTDESK_WECHATPAY_MCHID and the other CERTDESK_WECHATPAY_* settings) and/or Alipay (CERTDESK_ALIPAY_APP_ID and the other CERTDESK_ALIPAY_* settings); bank transfer and monthly statements keep working without either"
            }
            Sandbox::Sms => {
                "the sandbox SMS gateway (no message reaches a phone): set CERTDESK_SMS_SANDBOX=false with Alibaba Cloud's CERTDESK_SMS_ACCESS_KEY_ID, CERTDESK_SMS_ACCESS_KEY_SECRET_FILE, CERTDESK_SMS_SIGN_NAME and CERTDESK_SMS_TEMPLATES"
            }
            Sandbox::OutboxEmail => "outbox-only e-mail (no message reaches a mailbox): set CERTDESK_SMTP_URL",
        }
    }
}

/// The sandboxes this configuration runs.
pub fn sandboxes(config: &Config) -> Vec<Sandbox> {
    let mut found = Vec::new();
    if config.payment_sandbox {
        found.push(Sandbox::Payment);
    }
    if config.sms.sandbox {
        found.push(Sandbox::Sms);
    }
    if config.smtp_url.as_deref().is_none_or(str::is_empty) {
        found.push(Sandbox::OutboxEmail);
    }
    found
}

/// Refuses a production server that still runs a sandbox, naming each one and the setting
/// that replaces it. Development and staging servers pass (staging says so on every page).
pub fn check(config: &Config) -> anyhow::Result<()> {
    config.check()?;
    if !config.sms.sandbox {
        // The real gateway's files are read now, so a missing key or template fails here.
        crate::notify::aliyun::Settings::from_config(config)?;
    }
    if config.sandbox_allowed() {
        if config.staging {
            tracing::warn!("staging server: every page shows 测试环境 and every SMS carries 【测试环境】");
        }
        return Ok(());
    }
    let found = sandboxes(config);
    if found.is_empty() {
        return Ok(());
    }
    let list: String = found.iter().map(|s| format!("\n  - {}", s.explain())).collect();
    anyhow::bail!(
        "refusing to start in production mode with sandboxes configured:{list}\n\
         Replace each one, or start a public test deployment as a staging server (--staging, CERTDESK_STAGING=true), \
         which shows 测试环境 on every page and in every SMS; CERTDESK_DEV=true is for development on this machine only."
    )
}
