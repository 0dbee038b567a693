//! The staff console's settings: 项目与证书类型, 价格, 员工, 短信发件箱, 审计日志.

fn main() {
    certdesk_frontend::mount_admin_settings();
}
