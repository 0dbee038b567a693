//! The portal bundle: home, accounts, the services and the staff area.

fn main() {
    certdesk_frontend::mount_portal();
}
