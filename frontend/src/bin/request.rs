//! The holder's requests with documents and review: 证书注销, 证书变更, 经办人变更.

fn main() {
    certdesk_frontend::mount_request();
}
