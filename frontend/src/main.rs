//! The portal bundle: the home page, 环境检测 and the agreement, and every path no other
//! bundle answers (their 404 page).

fn main() {
    certdesk_frontend::mount_portal();
}
