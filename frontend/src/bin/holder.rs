//! The holder's bundle: 我的证书 and the operations on a certificate held (证书延期), with
//! the token agent and QR payment.

fn main() {
    certdesk_frontend::mount_holder();
}
