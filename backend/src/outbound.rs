//! The one HTTP client of the services outside (WeChat Pay, Alipay, Alibaba Cloud SMS, and
//! the sandboxes' notifications): reqwest with rustls, at most 3 s to connect, a total time
//! per call, and no redirects (an API that redirects is not the API).

use std::time::Duration;

/// The longest wait for a connection, whatever the call's total time.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client whose calls fail after `total`.
pub fn client(total: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(total))
        .timeout(total)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("CertDesk/", env!("CARGO_PKG_VERSION")))
        .build()?)
}
