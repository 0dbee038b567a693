//! The staff console bundle: the sections under /admin/… that are not settings (审核, 冻结与吊销,
//! 邮寄, 客服, 发票申请, 转账确认, 月结对账单); 工作台 (/admin), settings (/admin/settings/…:
//! billing, catalogue, prices, staff, outbox, audit) and sign-in are bundles of their own.

fn main() {
    certdesk_frontend::mount_admin();
}
