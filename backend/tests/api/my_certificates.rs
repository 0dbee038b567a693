//! 我的证书: the signed-in account's certificates in the tabs 有效 / 冻结 / 失效 with the
//! 证书信息 panel, the renewal window, the downloads, and nobody else's certificates.

use certdesk::ca::revoke;
use certdesk::entity::certificate;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::directory::SelfRevocation;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::my_certificates::{MyCertificate, MyCertificateStatus};
use certdesk_shared::{ApiError, ErrorCode};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::helpers::browser::{Browser, decode, registered};
use crate::helpers::ca::pem_to_der;
use crate::helpers::issuing::{CHALLENGE_PHRASE, issue_with_key, submitted};
use crate::helpers::{TestApp, spawn_app};

async fn mine(b: &mut Browser<'_>) -> Vec<MyCertificate> {
    let (s, v) = b.send::<endpoint::ListMyCertificates>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    decode(&v)
}

/// The public form's revocation by the challenge phrase.
fn by_phrase(reason: RevocationReason) -> SelfRevocation {
    SelfRevocation { challenge_phrase: CHALLENGE_PHRASE.into(), reason }
}

async fn row(app: &TestApp, uid: &str) -> certificate::Model {
    certificate::Entity::find().filter(certificate::Column::Uid.eq(uid)).one(&app.state.db).await.unwrap().unwrap()
}

async fn set_not_after(app: &TestApp, uid: &str, not_after: chrono::DateTime<Utc>) {
    let mut c: certificate::ActiveModel = row(app, uid).await.into();
    c.not_after = Set(not_after);
    c.update(&app.state.db).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_sees_the_certificate_in_its_tab_with_the_panel_and_nobody_else_does() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, mobile) = submitted(&app).await;
    assert_eq!(mine(&mut holder).await, Vec::<MyCertificate>::new(), "nothing before issuance");
    let (uid, serial, pem, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &mobile).await;

    let list = mine(&mut holder).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let c = &list[0];
    assert_eq!((c.uid.as_str(), c.status), (uid.as_str(), MyCertificateStatus::Valid));
    let p = &c.panel;
    assert_eq!(p.common_name, "天津市滨海数字认证有限公司");
    assert_eq!(p.organisation.as_deref(), Some("天津市滨海数字认证有限公司"));
    assert_eq!((p.type_name.as_deref(), p.profile), (Some("机构证书"), Some(CertificateProfile::OrgSign)));
    assert_eq!((p.country.as_str(), p.province.as_str(), p.city.as_str()), ("CN", "天津市", "和平区"));
    assert_eq!(p.email.as_deref(), Some("ca@example.com"));
    assert_eq!(p.serial, serial.to_uppercase());
    assert_eq!(p.trust_service_no.as_deref(), Some(acceptance.as_str()));
    assert!(p.medium_no.is_none(), "issued without a token: {p:?}");
    let stored = row(&app, &uid).await;
    assert_eq!(p.not_before, stored.not_before.to_rfc3339());
    assert_eq!(p.not_after, stored.not_after.to_rfc3339());
    // A fresh one-year certificate: 延期 opens 90 days before its end, not now.
    let opens = (stored.not_after - Duration::days(90)).format("%Y-%m-%d").to_string();
    assert_eq!((c.renewable, c.renewable_from.as_str()), (false, opens.as_str()));
    assert!(stored.not_after - Utc::now() > Duration::days(360), "{}", stored.not_after);

    // The downloads are the issued certificate.
    let der = pem_to_der(&pem);
    for (ext, body) in [("der", der.clone()), ("pem", pem.clone().into_bytes())] {
        let res = app.get(&endpoint::CertificateFile::path(&[&format!("{uid}.{ext}")])).await;
        assert_eq!(res.status(), StatusCode::OK);
        let got = res.bytes().await.unwrap().to_vec();
        if ext == "der" {
            assert_eq!(got, body);
        } else {
            assert_eq!(pem_to_der(std::str::from_utf8(&got).unwrap()), der);
        }
    }

    // One certificate by its uid, for its owner only.
    let one = holder.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(&one, c);
    let (mut other, _) = registered(&app).await;
    assert_eq!(mine(&mut other).await, Vec::<MyCertificate>::new());
    let (s, v) = other.send::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!((s, decode::<ApiError>(&v).code), (StatusCode::NOT_FOUND, ErrorCode::NotFound));
    let (s, _) = holder.send::<endpoint::GetMyCertificate>(&["no-such-uid"], &()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = Browser::new(&app).send::<endpoint::ListMyCertificates>(&[], &()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Inside the window 延期 is open; past the end the certificate is 失效 (expired).
    set_not_after(&app, &uid, Utc::now() + Duration::days(30)).await;
    let c = &mine(&mut holder).await[0];
    assert_eq!((c.status, c.renewable), (MyCertificateStatus::Valid, true), "{c:?}");
    set_not_after(&app, &uid, Utc::now() - Duration::days(1)).await;
    let c = &mine(&mut holder).await[0];
    assert_eq!((c.status, c.renewable), (MyCertificateStatus::Expired, false), "{c:?}");
    set_not_after(&app, &uid, stored.not_after).await;

    // Frozen (冻结), then released.
    revoke::hold(&app.state.db, &app.state.ca.issuing, &serial).await.unwrap();
    let c = &mine(&mut holder).await[0];
    assert_eq!((c.status, c.renewable), (MyCertificateStatus::Frozen, false), "{c:?}");
    assert!(c.revoked_at.is_some());
    revoke::release(&app.state.db, &app.state.ca.issuing, &serial).await.unwrap();
    assert_eq!(mine(&mut holder).await[0].status, MyCertificateStatus::Valid);

    // Revoked by its holder's challenge phrase: 失效 (revoked).
    let (s, v) = Browser::new(&app)
        .send::<endpoint::RevokeByChallengePhrase>(&[&uid], &by_phrase(RevocationReason::KeyCompromise))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = &mine(&mut holder).await[0];
    assert_eq!((c.status, c.renewable), (MyCertificateStatus::Revoked, false), "{c:?}");
    assert!(c.revoked_at.is_some());
    assert_eq!(mine(&mut other).await, Vec::<MyCertificate>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_revoked_as_superseded_is_invalid_as_superseded() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, ..) = issue_with_key(&app, &mut admin, &id, &acceptance, &mobile).await;
    let (s, v) = Browser::new(&app)
        .send::<endpoint::RevokeByChallengePhrase>(&[&uid], &by_phrase(RevocationReason::Superseded))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let list = mine(&mut holder).await;
    assert_eq!((list.len(), list[0].status), (1, MyCertificateStatus::Superseded), "{list:?}");
}
