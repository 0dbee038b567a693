//! 工作台, the staff console's first page (/admin): the charts of the member's work.

fn main() {
    certdesk_frontend::mount_admin_dashboard();
}
