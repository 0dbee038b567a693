//! Server configuration, from command-line flags or the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// The issuing CA's CRL shards unless configured: with 1,000,000 revoked certificates a shard
/// lists about 15,600 (0.8 MB), which a revocation re-signs in its transaction in about 13 ms
/// here; 16 shards made that 52 ms and 3 MB (issue 18's bench). More shards cost only more,
/// smaller CRLs to refresh and list.
pub const DEFAULT_CRL_SHARDS: u16 = 64;

#[derive(Debug, Clone, Parser)]
#[command(name = "certdesk", version, about = "CertDesk certificate authority self-service portal")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CERTDESK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Address of the internal listener that serves `GET /metrics` (Prometheus), e.g.
    /// `127.0.0.1:9464`; keep it off the public network. The public listener never serves
    /// metrics; without this flag there is no metrics endpoint.
    #[arg(long, env = "CERTDESK_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Database URL: `sqlite://…` (embedded, the default) or `postgres://…`.
    /// Defaults to `sqlite://<data-dir>/certdesk.db`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the embedded database and other local state.
    #[arg(long, env = "CERTDESK_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Directory of the built browser app (`cargo xtask app` output).
    #[arg(long, env = "CERTDESK_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// The portal's public base URL, as users reach it (used in links and security headers).
    #[arg(long, env = "CERTDESK_PUBLIC_URL", default_value = "http://localhost:8080")]
    pub public_url: String,

    /// Where the payment providers send their notifications (回调地址): this server's base
    /// URL as the providers reach it. Defaults to `--public-url`.
    #[arg(long, env = "CERTDESK_CALLBACK_URL")]
    pub callback_url: Option<String>,

    /// Where the built-in provider sandboxes (WeChat Pay, Alipay, Alibaba Cloud SMS, each
    /// speaking its vendor's wire protocol under `/sandbox/…`) are reached by this server's own
    /// provider clients. Defaults to `--public-url`. Only a development or staging server
    /// serves them.
    #[arg(long, env = "CERTDESK_SANDBOX_URL")]
    pub sandbox_url: Option<String>,

    /// Development mode: cookies without `Secure`/`__Host-` so plain http on localhost works.
    #[arg(long, env = "CERTDESK_DEV", default_value_t = false)]
    pub dev: bool,

    /// A staging server: a public test deployment that may run the sandboxes (payment, SMS,
    /// outbox e-mail). Every page shows "测试环境" and every SMS carries 【测试环境】.
    /// Without it (and without `--dev`) the server refuses to start while a sandbox is configured.
    #[arg(long, env = "CERTDESK_STAGING", default_value_t = false)]
    pub staging: bool,

    /// File holding the secret the CA keys are sealed under (created when missing).
    /// Defaults to `<data-dir>/ca.secret`. Back it up with the database.
    #[arg(long, env = "CERTDESK_CA_SECRET_FILE")]
    pub ca_secret_file: Option<PathBuf>,

    /// A passphrase to seal the CA keys under instead of the secret file (12+ characters).
    #[arg(long, env = "CERTDESK_CA_PASSPHRASE", hide_env_values = true)]
    pub ca_passphrase: Option<String>,

    /// PKCS#11 module holding the CA keys (e.g. /usr/lib/softhsm/libsofthsm2.so). Without it
    /// the keys are sealed in the database.
    #[arg(long, env = "CERTDESK_CA_PKCS11_MODULE")]
    pub ca_pkcs11_module: Option<PathBuf>,

    /// Label of the token in that module.
    #[arg(long, env = "CERTDESK_CA_PKCS11_TOKEN", default_value = "certdesk")]
    pub ca_pkcs11_token: String,

    /// User PIN of that token.
    #[arg(long, env = "CERTDESK_CA_PKCS11_PIN", hide_env_values = true)]
    pub ca_pkcs11_pin: Option<String>,

    /// Key algorithm of new CA keys: `p256` (ECDSA P-256, the default) or `rsa3072`.
    #[arg(long, env = "CERTDESK_CA_KEY_ALGORITHM", default_value = "p256", value_parser = ["p256", "rsa3072"])]
    pub ca_key_algorithm: String,

    /// CRL shards (partitions) of the issuing CA. A new certificate's shard is its serial mod
    /// this number, fixed at issuance and named in its CRL distribution point
    /// (`/ca/issuing/<shard>.crl`); changing it later moves no issued certificate, and every
    /// shard that holds one stays served.
    #[arg(long, env = "CERTDESK_CRL_SHARDS", default_value_t = DEFAULT_CRL_SHARDS, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub crl_shards: u16,

    /// Organisation in the CA names (`O=`).
    #[arg(long, env = "CERTDESK_CA_ORGANISATION", default_value = "CertDesk Demo")]
    pub ca_organisation: String,

    /// Common name prefix of the CAs (`CN=<this> Root CA`, `CN=<this> Issuing CA`).
    #[arg(long, env = "CERTDESK_CA_NAME", default_value = "CertDesk Demo")]
    pub ca_name: String,

    /// SMTP server for e-mail, e.g. `smtp://127.0.0.1:25` or `smtps://user:pass@mail.example.com`.
    /// Without it e-mail goes to the outbox that administrators read.
    #[arg(long, env = "CERTDESK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of CertDesk's e-mail.
    #[arg(long, env = "CERTDESK_MAIL_FROM", default_value = "CertDesk <no-reply@certdesk.localhost>")]
    pub mail_from: String,

    /// File holding the key of the audit trail's MACs (created when missing).
    /// Defaults to `<data-dir>/audit.key`. Back it up with the database.
    #[arg(long, env = "CERTDESK_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,

    /// Where the audit trail's head is published outside the database: each hour the newest
    /// row's number and MAC are appended to this file, signed with a key derived from the
    /// audit key, so that `certdesk audit verify` finds rows deleted from the end of the
    /// trail too. Put it where the database's administrators cannot write (another disk, a
    /// log collector's share). Default: <data-dir>/audit-heads.jsonl.
    #[arg(long, env = "CERTDESK_AUDIT_HEAD_FILE")]
    pub audit_head_file: Option<PathBuf>,

    /// Seconds between two publications of the audit trail's head.
    #[arg(long, env = "CERTDESK_AUDIT_HEAD_INTERVAL_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_head_interval_secs: u64,

    /// A passphrase to derive the audit key from instead of the file.
    #[arg(long, env = "CERTDESK_AUDIT_KEY", hide_env_values = true)]
    pub audit_key: Option<String>,

    /// The payment sandboxes (WeChat Pay's and Alipay's, each speaking its vendor's protocol,
    /// with public pay pages), on by default for development. Anyone can "pay" there, so a
    /// production server refuses to start with them: set `false` there, with the real
    /// providers' settings below (bank transfer and settlement work without any).
    #[arg(long, env = "CERTDESK_PAYMENT_SANDBOX", default_value_t = true, action = clap::ArgAction::Set)]
    pub payment_sandbox: bool,

    /// Alipay (支付宝当面付): the app's APPID on the open platform. With it, orders paid with
    /// 支付宝 go to the real gateway, signed RSA2 with the app's private key; without it a
    /// development or staging server with `--payment-sandbox` uses the built-in Alipay sandbox.
    #[arg(long, env = "CERTDESK_ALIPAY_APP_ID")]
    pub alipay_app_id: Option<String>,

    /// File holding the app's RSA private key (应用私钥: PEM, PKCS#8 or PKCS#1, or the bare
    /// base64 the open platform's key tool writes). Read at start, never logged.
    #[arg(long, env = "CERTDESK_ALIPAY_APP_PRIVATE_KEY_FILE")]
    pub alipay_app_private_key_file: Option<PathBuf>,

    /// File holding Alipay's public key (支付宝公钥, PEM or bare base64), which answers and
    /// notifications are verified with.
    #[arg(long, env = "CERTDESK_ALIPAY_PUBLIC_KEY_FILE")]
    pub alipay_public_key_file: Option<PathBuf>,

    /// Alipay's open-platform gateway.
    #[arg(long, env = "CERTDESK_ALIPAY_GATEWAY", default_value = "https://openapi.alipay.com/gateway.do")]
    pub alipay_gateway: String,
    /// SMS: the Alibaba Cloud SMS gateway (`SendSms`) or its built-in sandbox.
    #[command(flatten)]
    pub sms: SmsConfig,
    /// WeChat Pay (微信支付) merchant ID (商户号). With it the server offers WeChat Pay Native
    /// (API v3) for real, and every CERTDESK_WECHATPAY_* setting below is required. Without
    /// it, a development or staging server with the payment sandbox offers the sandbox's.
    #[arg(long, env = "CERTDESK_WECHATPAY_MCHID")]
    pub wechatpay_mchid: Option<String>,

    /// The AppID bound to that merchant (公众号, 小程序 or 移动应用).
    #[arg(long, env = "CERTDESK_WECHATPAY_APPID")]
    pub wechatpay_appid: Option<String>,

    /// Serial number of the merchant API certificate (商户API证书序列号).
    #[arg(long, env = "CERTDESK_WECHATPAY_MERCHANT_SERIAL")]
    pub wechatpay_merchant_serial: Option<String>,

    /// File holding the merchant API private key (`apiclient_key.pem`, PKCS#8 PEM), which
    /// signs every request.
    #[arg(long, env = "CERTDESK_WECHATPAY_MERCHANT_KEY_FILE")]
    pub wechatpay_merchant_key_file: Option<PathBuf>,

    /// File holding WeChat Pay's public key (微信支付公钥, PEM), which every answer and
    /// notification is verified against.
    #[arg(long, env = "CERTDESK_WECHATPAY_PLATFORM_PUBLIC_KEY_FILE")]
    pub wechatpay_platform_public_key_file: Option<PathBuf>,

    /// The ID of that public key (`PUB_KEY_ID_…`), as answers carry it in `Wechatpay-Serial`.
    #[arg(long, env = "CERTDESK_WECHATPAY_PLATFORM_PUBLIC_KEY_ID")]
    pub wechatpay_platform_public_key_id: Option<String>,

    /// File holding the API v3 key (32 characters), which decrypts notifications.
    #[arg(long, env = "CERTDESK_WECHATPAY_APIV3_KEY_FILE")]
    pub wechatpay_apiv3_key_file: Option<PathBuf>,

    /// WeChat Pay's API base URL.
    #[arg(long, env = "CERTDESK_WECHATPAY_BASE_URL", default_value = "https://api.mch.weixin.qq.com")]
    pub wechatpay_base_url: String,

    /// Milliseconds a call to a payment provider may take in all (the connection gets at
    /// most 3 s of it); a call that takes longer fails with `payment_timeout`.
    #[arg(long, env = "CERTDESK_PAYMENT_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub payment_timeout_ms: u64,

    /// Bank account shown for payment by transfer (户名, 账号, 开户行).
    #[arg(long, env = "CERTDESK_TRANSFER_ACCOUNT_NAME", default_value = "CertDesk 演示数字认证有限公司")]
    pub transfer_account_name: String,
    #[arg(long, env = "CERTDESK_TRANSFER_ACCOUNT_NO", default_value = "6106 5903 8153 0000")]
    pub transfer_account_no: String,
    #[arg(long, env = "CERTDESK_TRANSFER_BANK", default_value = "中国银行天津分行（演示）")]
    pub transfer_bank: String,

    /// Take the client address from the last `X-Forwarded-For` hop (behind a reverse proxy).
    #[arg(long, env = "CERTDESK_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

    /// TESTS ONLY: answer each captcha's solution in an `X-Captcha-Answer` header so browser
    /// tests can sign in. Refused unless `--dev` is on and the bind address is loopback.
    #[arg(long, env = "CERTDESK_INSECURE_CAPTCHA_ECHO", default_value_t = false, hide = true)]
    pub insecure_captcha_echo: bool,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CERTDESK_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Seconds between two runs of the expiry notices (通知消息: 90, 30 and 7 days before a
    /// certificate expires); the first runs at start. Each notice goes out once whatever
    /// the interval and however many servers run.
    #[arg(long, env = "CERTDESK_EXPIRY_NOTICE_INTERVAL_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub expiry_notice_interval_secs: u64,

    /// Seconds between two rounds of asking the payment providers about open orders whose
    /// notification has not come (`domain::payment::reconcile_open_orders`).
    #[arg(long, env = "CERTDESK_PAYMENT_RECONCILE_INTERVAL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub payment_reconcile_interval_secs: u64,
}

/// Alibaba Cloud's SMS endpoint (`dysmsapi`, RPC style).
pub const DEFAULT_SMS_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";

/// The SMS gateway's settings: Alibaba Cloud SMS (`SendSms`, API version 2017-05-25), or the
/// built-in sandbox that speaks the same protocol under `/sandbox/aliyun-sms/`.
#[derive(Debug, Clone, clap::Args)]
pub struct SmsConfig {
    /// The built-in SMS sandbox (on by default, as the embedded demo): messages land in the
    /// outbox that administrators read, none reaches a phone. Only a development or staging
    /// server runs it; set `false` together with the settings below for the real gateway.
    #[arg(long = "sms-sandbox", env = "CERTDESK_SMS_SANDBOX", default_value_t = true, action = clap::ArgAction::Set)]
    pub sandbox: bool,

    /// AccessKey ID of the RAM user that sends SMS (its only permission should be
    /// `dysms:SendSms`).
    #[arg(long = "sms-access-key-id", env = "CERTDESK_SMS_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,

    /// File holding that AccessKey's secret (one line).
    #[arg(long = "sms-access-key-secret-file", env = "CERTDESK_SMS_ACCESS_KEY_SECRET_FILE")]
    pub access_key_secret_file: Option<PathBuf>,

    /// The AccessKey secret itself, from the environment (prefer the file).
    #[arg(long = "sms-access-key-secret", env = "CERTDESK_SMS_ACCESS_KEY_SECRET", hide_env_values = true)]
    pub access_key_secret: Option<Secret>,

    /// The registered SMS signature (签名), shown as 【…】 before every text.
    #[arg(long = "sms-sign-name", env = "CERTDESK_SMS_SIGN_NAME", default_value = "CertDesk")]
    pub sign_name: String,

    /// The gateway's endpoint.
    #[arg(long = "sms-endpoint", env = "CERTDESK_SMS_ENDPOINT", default_value = DEFAULT_SMS_ENDPOINT)]
    pub endpoint: String,

    /// JSON file mapping each of our templates to the one Alibaba Cloud approved for the
    /// account: `{"SMS_CD_REGISTER": {"code": "SMS_123456789", "text": "<its text>"}, …}`
    /// (the text as registered, checked at start against our parameters).
    #[arg(long = "sms-templates", env = "CERTDESK_SMS_TEMPLATES")]
    pub templates: Option<PathBuf>,

    /// Time allowed for one `SendSms` call, connection included, in milliseconds.
    #[arg(long = "sms-timeout-ms", env = "CERTDESK_SMS_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub timeout_ms: u64,
}

/// A secret from the command line or the environment: never printed (`Debug` shows `***`).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl Config {
    /// The database URL to use: the configured one or SQLite under the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => format!("sqlite://{}?mode=rwc", self.data_dir.join("certdesk.db").display()),
        }
    }

    /// SQLite's counters database (`domain::throttle::Counters`): never backed up.
    pub fn counters_path(&self) -> PathBuf {
        self.data_dir.join("counters.db")
    }

    pub fn audit_head_path(&self) -> PathBuf {
        self.audit_head_file.clone().unwrap_or_else(|| self.data_dir.join("audit-heads.jsonl"))
    }

    pub fn audit_key_path(&self) -> PathBuf {
        self.audit_key_file.clone().unwrap_or_else(|| self.data_dir.join("audit.key"))
    }

    /// Refuses settings that must never reach production.
    pub fn check(&self) -> anyhow::Result<()> {
        // Development mode runs the sandboxes (anyone can "pay" on their pages) without the
        // staging banner: it is for this machine only.
        if self.dev && !self.bind.ip().is_loopback() {
            anyhow::bail!(
                "CERTDESK_DEV is for development on this machine: it needs a loopback bind address \
                 (a public test deployment is a staging server, CERTDESK_STAGING=true)"
            );
        }
        if self.insecure_captcha_echo && !(self.dev && self.bind.ip().is_loopback()) {
            anyhow::bail!(
                "CERTDESK_INSECURE_CAPTCHA_ECHO is for tests: it needs CERTDESK_DEV and a loopback bind address"
            );
        }
        Ok(())
    }

    /// Whether the server may run sandboxes and keep one-time codes in the outbox:
    /// in development and on a staging server.
    pub fn sandbox_allowed(&self) -> bool {
        self.dev || self.staging
    }

    /// The base URL the providers call back (no trailing slash).
    pub fn callback_base(&self) -> String {
        self.callback_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(&self.public_url)
            .trim_end_matches('/')
            .to_owned()
    }

    /// The base URL of the built-in sandboxes, as this server's clients reach them (no
    /// trailing slash).
    pub fn sandbox_base(&self) -> String {
        self.sandbox_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(&self.public_url)
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn ca_secret_path(&self) -> PathBuf {
        self.ca_secret_file.clone().unwrap_or_else(|| self.data_dir.join("ca.secret"))
    }

    /// Configuration for tests: in-memory values, no files read.
    pub fn for_tests(database_url: String, static_dir: PathBuf) -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_bind: None,
            database_url: Some(database_url),
            data_dir: static_dir.clone(),
            static_dir,
            public_url: "http://certdesk.localhost".into(),
            callback_url: None,
            sandbox_url: None,
            dev: true,
            staging: false,
            body_limit: 64 * 1024,
            ca_secret_file: None,
            ca_pkcs11_module: None,
            ca_pkcs11_token: "certdesk".into(),
            ca_pkcs11_pin: None,
            ca_key_algorithm: "p256".into(),
            crl_shards: DEFAULT_CRL_SHARDS,
            ca_passphrase: Some("test passphrase, not for production".into()),
            ca_organisation: "CertDesk Test".into(),
            ca_name: "CertDesk Test".into(),
            smtp_url: None,
            mail_from: "CertDesk <no-reply@certdesk.localhost>".into(),
            audit_key_file: None,
            audit_head_file: None,
            audit_head_interval_secs: 3600,
            audit_key: Some("test audit key, not for production".into()),
            trust_forwarded_for: false,
            payment_sandbox: true,
            alipay_app_id: None,
            alipay_app_private_key_file: None,
            alipay_public_key_file: None,
            alipay_gateway: "https://openapi.alipay.com/gateway.do".into(),
            sms: SmsConfig {
                sandbox: true,
                access_key_id: None,
                access_key_secret_file: None,
                access_key_secret: None,
                sign_name: "CertDesk".into(),
                endpoint: DEFAULT_SMS_ENDPOINT.into(),
                templates: None,
                timeout_ms: 10_000,
            },
            wechatpay_mchid: None,
            wechatpay_appid: None,
            wechatpay_merchant_serial: None,
            wechatpay_merchant_key_file: None,
            wechatpay_platform_public_key_file: None,
            wechatpay_platform_public_key_id: None,
            wechatpay_apiv3_key_file: None,
            wechatpay_base_url: "https://api.mch.weixin.qq.com".into(),
            payment_timeout_ms: 10_000,
            transfer_account_name: "CertDesk 测试".into(),
            transfer_account_no: "0000 0000".into(),
            transfer_bank: "测试银行".into(),
            insecure_captcha_echo: true,
            expiry_notice_interval_secs: 3600,
            payment_reconcile_interval_secs: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn the_sms_settings_parse_and_the_secret_never_prints() {
        let c = super::Config::try_parse_from([
            "certdesk",
            "--sms-sandbox",
            "false",
            "--sms-access-key-id",
            "LTAI5tExample",
            "--sms-access-key-secret",
            "do-not-print-me",
            "--sms-templates",
            "/etc/certdesk/sms-templates.json",
        ])
        .unwrap();
        assert!(!c.sms.sandbox);
        assert_eq!(c.sms.endpoint, super::DEFAULT_SMS_ENDPOINT);
        assert_eq!(c.sms.access_key_secret.as_ref().map(super::Secret::expose), Some("do-not-print-me"));
        let printed = format!("{c:?}");
        assert!(printed.contains("LTAI5tExample") && !printed.contains("do-not-print-me"), "{printed}");
        // The sandbox is on by default, as the payment sandbox is.
        assert!(super::Config::try_parse_from(["certdesk"]).unwrap().sms.sandbox);
    }
}
