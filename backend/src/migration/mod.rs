//! Schema migrations, applied in order at start (`Migrator::up`).

use sea_orm_migration::prelude::*;

pub(crate) mod schema;

mod m20261121_000001_instance;
mod m20261121_000002_ca;
mod m20261121_000003_crl_entry;
mod m20261121_000004_accounts;
mod m20261121_000005_crl_index;
mod m20261121_000006_applications;
mod m20261121_000007_payments;
mod m20261121_000008_invoices;
mod m20261121_000009_payment_uniques;
mod m20261121_000010_directory;
mod m20261121_000011_token_medium;
mod m20261121_000012_directory_backfill;
mod m20261121_000013_catalogue_names;
mod m20261121_000014_staff_offboarding;
mod m20261202_000015_token_unlock;
mod m20261202_000016_ca_request;
pub(crate) mod m20261202_000017_request;

/// The kinds and statuses the request table's CHECK constraints allow.
#[cfg(test)]
pub(crate) use m20261202_000017_request as request_codes;
mod m20261202_000018_certificate_holder;
mod m20261202_000019_expiry_notice;
mod m20261202_000020_outbox_relay;
mod m20261202_000021_phone_of_record;
mod m20261202_000023_reissue_price;
mod m20261202_000024_freeze_and_staff_revocation;
mod m20261202_000025_payment_ways;
mod m20261202_000026_alipay_sandbox;
mod m20261202_000027_sms_wire;
mod m20261202_000028_mobile_shield;
mod m20261202_000029_qr_login;
mod m20261202_000030_crl_shards;
mod m20261203_000031_console_filters;
mod m20261203_000032_request_note;
mod m20261203_000033_dashboard;
mod m20261204_000034_ships_by_post;
mod m20261204_000035_ocsp_response;
mod m20261204_000036_status_epoch;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_instance::Migration),
            Box::new(m20261121_000002_ca::Migration),
            Box::new(m20261121_000003_crl_entry::Migration),
            Box::new(m20261121_000004_accounts::Migration),
            Box::new(m20261121_000005_crl_index::Migration),
            Box::new(m20261121_000006_applications::Migration),
            Box::new(m20261121_000007_payments::Migration),
            Box::new(m20261121_000008_invoices::Migration),
            Box::new(m20261121_000009_payment_uniques::Migration),
            Box::new(m20261121_000010_directory::Migration),
            Box::new(m20261121_000011_token_medium::Migration),
            Box::new(m20261121_000012_directory_backfill::Migration),
            Box::new(m20261121_000013_catalogue_names::Migration),
            Box::new(m20261121_000014_staff_offboarding::Migration),
            Box::new(m20261202_000015_token_unlock::Migration),
            Box::new(m20261202_000016_ca_request::Migration),
            Box::new(m20261202_000017_request::Migration),
            Box::new(m20261202_000018_certificate_holder::Migration),
            Box::new(m20261202_000019_expiry_notice::Migration),
            Box::new(m20261202_000020_outbox_relay::Migration),
            Box::new(m20261202_000021_phone_of_record::Migration),
            Box::new(m20261202_000023_reissue_price::Migration),
            Box::new(m20261202_000024_freeze_and_staff_revocation::Migration),
            Box::new(m20261202_000025_payment_ways::Migration),
            Box::new(m20261202_000026_alipay_sandbox::Migration),
            Box::new(m20261202_000027_sms_wire::Migration),
            Box::new(m20261202_000028_mobile_shield::Migration),
            Box::new(m20261202_000029_qr_login::Migration),
            Box::new(m20261202_000030_crl_shards::Migration),
            Box::new(m20261203_000031_console_filters::Migration),
            Box::new(m20261203_000032_request_note::Migration),
            Box::new(m20261203_000033_dashboard::Migration),
            Box::new(m20261204_000034_ships_by_post::Migration),
            Box::new(m20261204_000035_ocsp_response::Migration),
            Box::new(m20261204_000036_status_epoch::Migration),
        ]
    }
}
