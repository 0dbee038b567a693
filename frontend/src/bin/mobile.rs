//! The mobile shield app (移动软盾) at `/m`: its own installable bundle for phones.

fn main() {
    certdesk_frontend::mount_mobile();
}
