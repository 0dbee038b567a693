//! The staff console bundle (/admin…): review, staff, outbox, audit.

fn main() {
    certdesk_frontend::mount_admin();
}
