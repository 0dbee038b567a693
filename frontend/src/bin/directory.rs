//! The public directory bundle (查询服务): status search, a certificate's page with
//! self-revocation, the revocation bulletin and the progress lookup, without signing in.

fn main() {
    certdesk_frontend::mount_directory();
}
