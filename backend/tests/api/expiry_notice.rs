//! 通知消息: expiry notices 90, 30 and 7 days before a certificate expires. The domain
//! function runs with a `now` in the future (no clock the server would accept); each notice
//! is a message, an SMS and an e-mail, sent once across restarts and concurrent runs, only
//! the most urgent when several are due, nothing for a revoked or frozen certificate; another
//! holder's later certificate of the same name is no renewal; the list API links to 延期
//! and keeps each account's notices to itself.

use certdesk_shared::endpoint;
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use certdesk::domain::expiry_notice::{Sending, Sent, send_due};
use certdesk::entity::{certificate, outbox_message};
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::SelfRevocation;
use certdesk_shared::notice::NoticeList;
use certdesk_shared::{ApiError, ErrorCode};

use crate::helpers::browser::{Browser, registered};
use crate::helpers::issuing::{CHALLENGE_PHRASE, issue_with_key, submitted};
use crate::helpers::mail::SmtpServer;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A customer with an issued certificate: the browser, the phone, the certificate.
async fn holder_with_certificate(app: &TestApp) -> (Browser<'_>, String, certificate::Model) {
    let (b, mut admin, id, acceptance, mobile) = submitted(app).await;
    let (uid, _, _, _) = issue_with_key(app, &mut admin, &id, &acceptance, &mobile).await;
    let cert = certificate::Entity::find().filter(certificate::Column::Uid.eq(&uid)).one(&app.state.db).await;
    (b, mobile, cert.unwrap().unwrap())
}

async fn run(app: &TestApp, now: DateTime<Utc>) -> Sent {
    send_due(&app.state.db, now, &Sending::from_config(&app.state.config)).await.unwrap()
}

/// The outbox's messages of one template to one recipient.
pub async fn kept(app: &TestApp, template: &str, recipient: &str) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Template.eq(template))
        .filter(outbox_message::Column::Recipient.eq(recipient))
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn notices(b: &mut Browser<'_>) -> NoticeList {
    let (s, v) = b.send::<endpoint::ListNotices>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_notice_per_threshold_with_sms_and_email_once_and_only_for_its_holder() {
    let app = spawn_app().await;
    let (mut b, mobile, cert) = holder_with_certificate(&app).await;
    let email = cert.email.clone().expect("the certificate carries the holder's e-mail");

    // Issued today for a year: nothing is due now.
    assert_eq!(run(&app, Utc::now()).await, Sent::default());
    assert_eq!(notices(&mut b).await.unread, 0);

    // First seen 29 days before expiry: the 90- and the 30-day notices are both due, only
    // the 30-day one goes out: one message, one SMS, one e-mail.
    let at = cert.not_after - Duration::days(29);
    assert_eq!(run(&app, at).await, Sent { notices: 1, sms: 1, emails: 1 });
    let sms = kept(&app, "SMS_CD_EXPIRY", &mobile).await;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].body.starts_with("【CertDesk】您的数字证书（"), "{}", sms[0].body);
    assert!(sms[0].body.contains("还有29天") && sms[0].body.contains("延期"), "{}", sms[0].body);
    let mail = kept(&app, "expiry_notice", &email).await;
    assert_eq!(mail.len(), 1);
    let link = format!("http://certdesk.localhost/renew?uid={}", cert.uid);
    assert!(mail[0].body.contains(&link), "{}", mail[0].body);

    // A restart, an hour later, ten days later: the same notice is not sent again.
    for later in [at, at + Duration::hours(1), at + Duration::days(10)] {
        assert_eq!(run(&app, later).await, Sent::default(), "{later}");
    }
    assert_eq!(kept(&app, "SMS_CD_EXPIRY", &mobile).await.len(), 1);

    // Five days before expiry: the 7-day notice, once.
    let week = cert.not_after - Duration::days(5);
    assert_eq!(run(&app, week).await, Sent { notices: 1, sms: 1, emails: 1 });
    assert_eq!(run(&app, week).await, Sent::default());
    assert!(kept(&app, "SMS_CD_EXPIRY", &mobile).await.iter().any(|m| m.body.contains("还有5天")));
    // Expired: nothing more.
    assert_eq!(run(&app, cert.not_after + Duration::days(1)).await, Sent::default());
    // A 90-day run after the more urgent ones (a clock going back) sends nothing either.
    assert_eq!(run(&app, cert.not_after - Duration::days(80)).await, Sent::default());

    // The user centre: newest first, each linking to 延期 for the certificate.
    let list = notices(&mut b).await;
    assert_eq!(list.unread, 2);
    let thresholds: Vec<i32> = list.notices.iter().map(|n| n.threshold_days).collect();
    assert_eq!(thresholds, [7, 30]);
    for n in &list.notices {
        assert_eq!(
            (n.certificate_uid.as_str(), n.subject.as_str(), n.read),
            (cert.uid.as_str(), cert.subject.as_str(), false)
        );
        assert_eq!(n.renew_path(), format!("/renew?uid={}", cert.uid));
        assert!(sms[0].body.contains(&format!("将于{}到期", n.expires_on)), "the page and the SMS name one date");
    }

    // Another account sees none of them and cannot mark one read; nobody signed in, neither.
    let (mut other, _) = registered(&app).await;
    assert_eq!(notices(&mut other).await, NoticeList { notices: vec![], unread: 0 });
    let (s, v) = other.send::<endpoint::MarkNoticeRead>(&[&list.notices[0].id], &()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(crate::helpers::browser::decode::<ApiError>(&v).code, ErrorCode::NotFound, "{v}");
    assert_eq!(Browser::new(&app).send::<endpoint::ListNotices>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        Browser::new(&app).send::<endpoint::MarkNoticeRead>(&[&list.notices[0].id], &()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(notices(&mut b).await.unread, 2, "the other account's attempt marked nothing");
    let (s, v) = b.send::<endpoint::MarkNoticeRead>(&["no-such-notice"], &()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // The holder marks one read (twice is the same).
    for _ in 0..2 {
        assert_eq!(b.send::<endpoint::MarkNoticeRead>(&[&list.notices[0].id], &()).await.0, StatusCode::NO_CONTENT);
    }
    let list = notices(&mut b).await;
    assert_eq!(list.unread, 1);
    assert_eq!(list.notices.iter().map(|n| n.read).collect::<Vec<_>>(), [true, false]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_runs_send_each_notice_once() {
    let app = spawn_app().await;
    let (_b, mobile, cert) = holder_with_certificate(&app).await;
    let at = cert.not_after - Duration::days(60);
    // Four runs at once on the same database (on PostgreSQL, four servers).
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (db, config) = (app.state.db.clone(), app.state.config.clone());
            tokio::spawn(async move { send_due(&db, at, &Sending::from_config(&config)).await.unwrap() })
        })
        .collect();
    let mut sent = Vec::new();
    for run in runs {
        sent.push(run.await.unwrap());
    }
    let total = sent.iter().fold(Sent::default(), |a, s| Sent {
        notices: a.notices + s.notices,
        sms: a.sms + s.sms,
        emails: a.emails + s.emails,
    });
    assert_eq!(total, Sent { notices: 1, sms: 1, emails: 1 }, "{sent:?}");
    assert_eq!(kept(&app, "SMS_CD_EXPIRY", &mobile).await.len(), 1);
    let rows = certdesk::entity::expiry_notice::Entity::find()
        .filter(certdesk::entity::expiry_notice::Column::CertificateUid.eq(&cert.uid))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.threshold_days).collect::<Vec<_>>(), [90]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_frozen_certificate_gets_no_notice() {
    let app = spawn_app().await;
    let (mut b, mobile, cert) = holder_with_certificate(&app).await;
    let (_f, frozen_mobile, frozen) = holder_with_certificate(&app).await;
    certdesk::ca::revoke::hold(&app.state.db, &app.state.ca.issuing, &frozen.serial).await.unwrap();
    let (s, v) = Browser::new(&app)
        .send::<endpoint::RevokeByChallengePhrase>(
            &[&cert.uid],
            &SelfRevocation { challenge_phrase: CHALLENGE_PHRASE.into(), reason: RevocationReason::KeyCompromise },
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for days in [80, 20, 3] {
        assert_eq!(run(&app, cert.not_after - Duration::days(days)).await, Sent::default());
    }
    assert!(kept(&app, "SMS_CD_EXPIRY", &mobile).await.is_empty());
    assert!(kept(&app, "SMS_CD_EXPIRY", &frozen_mobile).await.is_empty());
    assert_eq!(certdesk::entity::expiry_notice::Entity::find().count(&app.state.db).await.unwrap(), 0);
    assert_eq!(notices(&mut b).await.unread, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_holders_later_certificate_of_the_same_name_does_not_silence_a_notice() {
    let app = spawn_app().await;
    let (_a, first_mobile, first) = holder_with_certificate(&app).await;
    let (_b, second_mobile, second) = holder_with_certificate(&app).await;
    // Two accounts, one subject and profile (the same unit name); the second expires 12 hours
    // later (issued within the same second, they could expire together).
    assert_eq!((&first.subject, &first.profile), (&second.subject, &second.profile));
    let later = first.not_after + Duration::hours(12);
    certificate::Entity::update(certificate::ActiveModel { not_after: Set(later), ..second.into() })
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(run(&app, first.not_after - Duration::days(29)).await, Sent { notices: 2, sms: 2, emails: 2 });
    assert_eq!(kept(&app, "SMS_CD_EXPIRY", &first_mobile).await.len(), 1);
    assert_eq!(kept(&app, "SMS_CD_EXPIRY", &second_mobile).await.len(), 1);
}

/// With an SMTP server, the claim keeps the e-mail for the relay, which hands it to the
/// server once: a second relay round, or a second server's, sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_smtp_server_the_relay_mails_each_notice_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(|c| c.smtp_url = Some(smtp.url())).await;
    let (_b, _mobile, cert) = holder_with_certificate(&app).await;
    let email = cert.email.clone().unwrap();
    let sent = run(&app, cert.not_after - Duration::days(29)).await;
    assert_eq!(sent.emails, 1);
    let kept = kept(&app, "expiry_notice", &email).await;
    assert_eq!(kept.iter().map(|m| m.relay.as_deref()).collect::<Vec<_>>(), [Some("pending")]);
    // (The approval e-mail of the application went over SMTP already.)
    let notices_mailed = |smtp: &SmtpServer| {
        smtp.received()
            .into_iter()
            .map(|raw| crate::helpers::mail::mailparse_lite(&raw))
            .filter(|m| m.contains(&format!("/renew?uid={}", cert.uid)))
            .count()
    };
    assert_eq!(notices_mailed(&smtp), 0, "nothing leaves before the relay runs");

    let mailer = &app.state.notifier.email;
    let (first, second) = tokio::join!(mailer.relay_pending(), mailer.relay_pending());
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    assert_eq!(mailer.relay_pending().await.unwrap(), 0);
    for _ in 0..50 {
        if notices_mailed(&smtp) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(notices_mailed(&smtp), 1);
    assert!(smtp.received().iter().any(|raw| raw.contains(&format!("To: {email}"))));
    let kept = crate::expiry_notice::kept(&app, "expiry_notice", &email).await;
    assert_eq!(kept.iter().map(|m| m.relay.as_deref()).collect::<Vec<_>>(), [Some("sent")]);
}
