//! The new-certificate bundle (证书新办): the wizard and 我的证书申请.

fn main() {
    certdesk_frontend::mount_apply();
}
