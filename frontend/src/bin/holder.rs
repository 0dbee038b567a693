//! The holder's bundle: 我的证书, the certificates held and what is open for each (freeze,
//! the soft shield, links to 证书延期, 证书补办, 证书注销 and 证书变更 in their bundles).

fn main() {
    certdesk_frontend::mount_holder();
}
