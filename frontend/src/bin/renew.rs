//! 证书延期 and 证书补办 (/renew, /reissue): a new certificate for one held, paid by QR code
//! or settlement and written into the token through the agent.

fn main() {
    certdesk_frontend::mount_renew();
}
