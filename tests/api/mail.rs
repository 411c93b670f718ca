//! Email over SMTP, received by a real SMTP server (aiosmtpd, started by the test and writing
//! each message into a Maildir): a form lead's personalised auto-reply in the visitor's
//! language, retried while the mail server is down, notification digests, and the mail
//! settings page with its test mail.

use crate::forms::{create_form, post_json};
use crate::on_both_databases;
use crate::support::{Backend, TestApp};
use crate::ui::Browser;
use chrono::Duration;
use mailparse::MailHeaderMap;
use reqwest::StatusCode;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use xiansuo_app::channels::mail::SmtpSettings;
use xiansuo_app::channels::notifications;
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;
use xiansuo_store::Param;

on_both_databases!(
    a_form_lead_gets_a_personalised_auto_reply_in_its_language,
    an_auto_reply_waits_for_a_mail_server_that_is_down,
    notifications_are_mailed_as_one_digest_per_user,
    muted_kinds_are_not_mailed_and_a_daily_digest_comes_at_eight,
);

/// A real SMTP server on loopback that stores what it receives; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
    pub port: u16,
}

/// A port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl SmtpSink {
    /// Starts `python3 -m aiosmtpd` on `port`. `None` when aiosmtpd is not installed, except in
    /// CI (`CI=true`), where that is a failure (scripts/test.sh installs it).
    pub async fn start(port: u16) -> Option<SmtpSink> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let maildir = dir.path().join("mail");
        let spawned = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return unavailable(&format!("python3 cannot be started: {e}")),
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(SmtpSink {
                    child,
                    maildir,
                    _dir: dir,
                    port,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return unavailable(&format!(
                    "python3 -m aiosmtpd exited with {status} (pip install aiosmtpd)"
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        panic!("aiosmtpd did not start listening on port {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The raw messages received so far, oldest first.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| {
                let modified = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (modified, e.path())
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).expect("a stored message"))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unavailable(why: &str) -> Option<SmtpSink> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("an SMTP server for the tests is required in CI: {why}");
    }
    eprintln!("skipping: {why}");
    None
}

fn env(url: Option<String>) -> JobEnv {
    JobEnv {
        http: reqwest::Client::new(),
        smtp_url: url,
        smtp_from: Some("线索 CRM <crm@example.com>".into()),
        backup_dir: None,
    }
}

/// A received message's To, From and Subject headers (decoded) and its body (decoded).
fn read(raw: &[u8]) -> (String, String, String, String) {
    let mail = mailparse::parse_mail(raw).expect("a message that parses");
    let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
    (
        header("To"),
        header("From"),
        header("Subject"),
        mail.get_body().expect("a body that decodes"),
    )
}

async fn email_jobs(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    app.db
        .fetch_all(
            "SELECT state, attempts, last_error FROM jobs WHERE kind = ? ORDER BY id",
            &[Param::from("email.send")],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.text("state"), r.int("attempts"), r.opt_text("last_error")))
        .collect()
}

fn auto_reply_form() -> serde_json::Value {
    json!({
        "name": "2026 春季展会",
        "fields": [
            {"field": "name", "required": true},
            {"field": "email", "required": true},
            {"field": "company"},
        ],
        "auto_reply": {
            "enabled": true,
            "subject_zh": "感谢您的咨询，{{name}}",
            "body_zh": "{{name}} 您好：\n\n感谢您代表{{company}}报名「{{form_name}}」，我们的顾问会尽快与您联系。\n\n线索 CRM 团队",
            "subject_en": "Thank you, {{name}}",
            "body_en": "Dear {{name}},\n\nThank you for registering for {{form_name}}. We will be in touch soon.",
        },
    })
}

async fn a_form_lead_gets_a_personalised_auto_reply_in_its_language(app: TestApp) {
    let Some(sink) = SmtpSink::start(free_port()).await else {
        return;
    };
    let form = create_form(&app, auto_reply_form()).await;
    let key = form["key"].as_str().unwrap();
    let reply = post_json(
        &app,
        key,
        json!({"name": "张伟", "email": "zhang.wei@example.com", "company": "恒远信息科技"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(
        sink.messages().is_empty(),
        "sent by the job runner, not the request"
    );

    let report = jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    assert!(report.done >= 1, "{report:?}");
    assert_eq!(email_jobs(&app).await[0].0, "done");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let raw = String::from_utf8_lossy(&messages[0]).to_string();
    assert!(
        raw.contains("Subject: =?utf-8?"),
        "the Chinese subject is an RFC 2047 encoded word: {raw}"
    );
    let (to, from, subject, body) = read(&messages[0]);
    let body = body.replace("\r\n", "\n");
    assert_eq!(to, "zhang.wei@example.com");
    assert_eq!(from, "线索 CRM <crm@example.com>");
    assert_eq!(subject, "感谢您的咨询，张伟");
    assert!(
        body.contains("张伟 您好：\n\n感谢您代表恒远信息科技报名「2026 春季展会」"),
        "{body}"
    );

    app.clock.advance(Duration::minutes(1));
    let reply = post_json(
        &app,
        key,
        json!({"name": "Li Na", "email": "li.na@example.com", "lang": "en"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    // No email asked for, no mail: a form without an auto-reply sends nothing.
    let quiet = create_form(
        &app,
        json!({"name": "安静的表单", "fields": [{"field": "name"}, {"field": "email"}]}),
    )
    .await;
    post_json(
        &app,
        quiet["key"].as_str().unwrap(),
        json!({"name": "刘洋", "email": "liu@example.com"}),
    )
    .await;
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    let (to, _, subject, body) = read(&messages[1]);
    assert_eq!(to, "li.na@example.com");
    assert_eq!(subject, "Thank you, Li Na");
    assert!(
        body.replace("\r\n", "\n")
            .starts_with("Dear Li Na,\n\nThank you for registering for 2026 春季展会."),
        "{body}"
    );
}

async fn an_auto_reply_waits_for_a_mail_server_that_is_down(app: TestApp) {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let form = create_form(&app, auto_reply_form()).await;
    let reply = post_json(
        &app,
        form["key"].as_str().unwrap(),
        json!({"name": "王芳", "email": "wang.fang@example.com", "company": "云栖科技"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    // Nothing listens on the port: the job is queued again for later.
    let report = jobs::run_due(&app.db, &env(Some(url.clone())), app.clock_now())
        .await
        .unwrap();
    assert!(report.retried >= 1, "{report:?}");
    let queued = email_jobs(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].0.as_str(), queued[0].1), ("queued", 1));
    assert!(queued[0].2.as_deref().is_some_and(|e| !e.is_empty()));

    let Some(sink) = SmtpSink::start(port).await else {
        return;
    };
    // Not before its backoff has passed…
    jobs::run_due(&app.db, &env(Some(url.clone())), app.clock_now())
        .await
        .unwrap();
    assert!(sink.messages().is_empty());
    // …then it goes out, once.
    app.clock.advance(Duration::seconds(61));
    jobs::run_due(&app.db, &env(Some(url.clone())), app.clock_now())
        .await
        .unwrap();
    app.clock.advance(Duration::minutes(10));
    jobs::run_due(&app.db, &env(Some(url)), app.clock_now())
        .await
        .unwrap();
    let done = email_jobs(&app).await;
    assert_eq!((done[0].0.as_str(), done[0].1), ("done", 2));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let (to, _, subject, body) = read(&messages[0]);
    assert_eq!(to, "wang.fang@example.com");
    assert_eq!(subject, "感谢您的咨询，王芳");
    assert!(body.contains("云栖科技"), "{body}");
}

async fn notifications_are_mailed_as_one_digest_per_user(app: TestApp) {
    let Some(sink) = SmtpSink::start(free_port()).await else {
        return;
    };
    let mut ids = Vec::new();
    for (username, email, locale) in [
        ("zhang", Some("zhang@example.com"), "zh"),
        ("li", None, "zh"),
        ("smith", Some("smith@example.com"), "en"),
    ] {
        let reply = app
            .post(
                "/api/v1/users",
                &app.admin_token,
                json!({"username": username, "password": "password123", "role": "rep", "email": email, "locale": locale}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        ids.push(reply.body["id"].as_i64().unwrap());
    }
    let now = app.clock_now().timestamp_millis();
    let mut tx = app.db.begin().await.unwrap();
    for (user, message, at) in [
        (ids[0], "线索「张伟」已分配给你", now - 2 * 60 * 60 * 1000),
        (ids[0], "线索「李娜」已分配给你", now - 60_000),
        (ids[0], "线索「刘洋」已分配给你", now),
        (ids[0], "线索「赵敏」已分配给你", now),
        (ids[1], "线索「王芳」已分配给你", now),
        (ids[2], "Lead Wang Fang is now yours", now),
    ] {
        notifications::notify(
            &mut tx,
            &notifications::Notification {
                user_id: user,
                kind: notifications::Kind::LeadAssigned,
                record_type: None,
                record_id: None,
                message: message.into(),
                now_ms: at,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // One was read in the app already: no need to mail it.
    let read_one = app
        .db
        .fetch_optional(
            "SELECT id FROM notifications WHERE message = ?",
            &[Param::from("线索「赵敏」已分配给你")],
        )
        .await
        .unwrap()
        .unwrap()
        .int("id");
    notifications::mark_read(&app.db, ids[0], read_one, now)
        .await
        .unwrap();

    // Without a mail server nothing is sent, and nothing is lost.
    jobs::run_due(&app.db, &env(None), app.clock_now())
        .await
        .unwrap();
    assert!(email_jobs(&app).await.is_empty());

    app.clock.advance(Duration::minutes(1));
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    let messages = sink.messages();
    assert_eq!(
        messages.len(),
        2,
        "one digest each for the users with an email"
    );
    let mut digests: Vec<_> = messages.iter().map(|m| read(m)).collect();
    digests.sort();
    let (to, _, subject, body) = &digests[0];
    assert_eq!(to, "smith@example.com");
    assert_eq!(subject, "Xiansuo: 1 new notification(s)");
    assert!(body.contains("Lead Wang Fang is now yours"), "{body}");
    let (to, _, subject, body) = &digests[1];
    assert_eq!(to, "zhang@example.com");
    assert_eq!(subject, "线索：你有 2 条新通知");
    assert!(
        body.contains("- 2026-11-02 16:59 线索「李娜」已分配给你"),
        "{body}"
    );
    assert!(
        body.contains("- 2026-11-02 17:00 线索「刘洋」已分配给你"),
        "{body}"
    );
    assert!(!body.contains("张伟"), "two hours old: not mailed");
    assert!(!body.contains("赵敏"), "read already: not mailed");

    app.clock.advance(Duration::minutes(1));
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    assert_eq!(sink.messages().len(), 2, "each notification is mailed once");
}

/// A user who muted a kind by email is not mailed it (but sees it in the app); one who chose a
/// daily digest gets nothing within the minute and everything at 08:00 in their time zone, once.
async fn muted_kinds_are_not_mailed_and_a_daily_digest_comes_at_eight(app: TestApp) {
    use notifications::Kind;
    let Some(sink) = SmtpSink::start(free_port()).await else {
        return;
    };
    let mut users = Vec::new();
    for (username, email) in [("zhang", "zhang@example.com"), ("li", "li@example.com")] {
        let user = app.user(username, Role::Rep, None).await;
        let reply = app
            .patch(
                &format!("/api/v1/users/{}", user.id),
                &app.admin_token,
                json!({"email": email}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        users.push((user.id, user.token));
    }
    let app = &app;
    let put = |token: String, body: serde_json::Value| async move {
        app.call(
            reqwest::Method::PUT,
            "/api/v1/me/notification-preferences",
            &token,
            Some(body),
        )
        .await
    };
    // 张 mutes assignments by email; 李 wants one digest a day.
    let muted = put(
        users[0].1.clone(),
        json!({"kinds": [{"kind": "lead.assigned", "in_app": true, "email": false}]}),
    )
    .await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.body);
    let daily = put(users[1].1.clone(), json!({"daily_digest": true})).await;
    assert_eq!(daily.body["daily_digest"], true, "{}", daily.body);

    let now = app.clock_now().timestamp_millis();
    let mut tx = app.db.begin().await.unwrap();
    for (user, kind, message) in [
        (users[0].0, Kind::LeadAssigned, "线索「张伟」已分配给你"),
        (users[0].0, Kind::FollowupDue, "线索「王芳」的跟进已到期"),
        (users[1].0, Kind::LeadAssigned, "线索「刘洋」已分配给你"),
        (
            users[1].0,
            Kind::RecycleWarning,
            "线索「赵敏」将在 2 天后收回公海",
        ),
    ] {
        let note = notifications::Notification {
            user_id: user,
            kind,
            record_type: None,
            record_id: None,
            message: message.into(),
            now_ms: now,
        };
        notifications::notify(&mut tx, &note).await.unwrap();
    }
    tx.commit().await.unwrap();

    app.clock.advance(Duration::minutes(1));
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "only 张's, within the minute");
    let (to, _, subject, body) = read(&messages[0]);
    assert_eq!(to, "zhang@example.com");
    assert_eq!(subject, "线索：你有 1 条新通知");
    assert!(body.contains("王芳"), "{body}");
    assert!(!body.contains("张伟"), "muted by email: {body}");
    let shown = app.get("/api/v1/notifications", &users[0].1).await;
    assert_eq!(
        shown.body["unread"], 2,
        "both are in the app: {}",
        shown.body
    );

    // 17:01 in Shanghai now; 李's digest waits for 08:00 tomorrow.
    app.clock
        .advance(Duration::hours(14) + Duration::minutes(58));
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    assert_eq!(sink.messages().len(), 1, "07:59: not yet");
    app.clock.advance(Duration::minutes(1));
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "08:00: the daily digest");
    let (to, _, subject, body) = read(&messages[1]);
    assert_eq!(to, "li@example.com");
    assert_eq!(subject, "线索：每日通知汇总，共 2 条");
    assert!(body.contains("刘洋") && body.contains("赵敏"), "{body}");

    app.clock.advance(Duration::hours(1));
    jobs::run_due(&app.db, &env(Some(sink.url())), app.clock_now())
        .await
        .unwrap();
    assert_eq!(sink.messages().len(), 2, "once a day");
}

/// The mail settings page against a real mail server: what is configured (the password
/// masked), a test mail that arrives, one that cannot leave and says why, a bad address beside
/// its field, and a rep refused.
async fn the_mail_settings_page_shows_the_server_and_sends_a_test_mail(backend: Backend) {
    let Some(sink) = SmtpSink::start(free_port()).await else {
        return;
    };
    let smtp = SmtpSettings {
        url: Some(sink.url()),
        from: Some("线索 CRM <crm@example.com>".into()),
    };
    let Some(app) = TestApp::start_with_smtp(backend, smtp).await else {
        return;
    };
    app.user("wang", Role::Rep, None).await;
    let rep = Browser::signed_in(&app, "wang").await;
    rep.get("/settings/mail")
        .await
        .assert_html(StatusCode::FORBIDDEN);

    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/mail").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains(&sink.url()), "{}", page.body);
    assert!(page.body.contains("crm@example.com"));
    assert!(page.body.contains("href=\"/settings/mail\""), "in the menu");
    let csrf = admin.csrf().await;
    let sent = admin
        .post(
            "/settings/mail/test",
            &[("csrf_token", csrf.as_str()), ("to", "boss@example.com")],
        )
        .await;
    sent.assert_html(StatusCode::OK);
    assert!(sent.body.contains("已发送"), "{}", sent.body);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let (to, from, subject, _) = read(&messages[0]);
    assert!(to.contains("boss@example.com"), "{to}");
    assert!(from.contains("crm@example.com"), "{from}");
    assert!(subject.contains("测试邮件"), "{subject}");

    let bad = admin
        .post(
            "/settings/mail/test",
            &[("csrf_token", csrf.as_str()), ("to", "not an address")],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"error-to\""), "{}", bad.body);
    assert_eq!(sink.messages().len(), 1);

    // A server that is down, with a password that is never shown.
    let down = SmtpSettings {
        url: Some(format!("smtp://mailer:s3cr3t@127.0.0.1:{}", free_port())),
        from: None,
    };
    let Some(app) = TestApp::start_with_smtp(backend, down).await else {
        return;
    };
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/mail").await;
    assert!(
        page.body.contains("smtp://mailer:****@127.0.0.1:"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("s3cr3t"));
    let csrf = admin.csrf().await;
    let failed = admin
        .post(
            "/settings/mail/test",
            &[("csrf_token", csrf.as_str()), ("to", "boss@example.com")],
        )
        .await;
    failed.assert_html(StatusCode::OK);
    assert!(failed.body.contains("未发送"), "{}", failed.body);
    assert!(!failed.body.contains("s3cr3t"));

    // Nothing configured: how to configure it, and a test mail says so.
    let Some(app) = TestApp::start_with_smtp(backend, SmtpSettings::default()).await else {
        return;
    };
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/mail").await;
    assert!(page.body.contains("id=\"smtp-not-configured\""));
    assert!(page.body.contains("--smtp-url") && page.body.contains("XIANSUO_SMTP_URL"));
    let csrf = admin.csrf().await;
    let unset = admin
        .post(
            "/settings/mail/test",
            &[("csrf_token", csrf.as_str()), ("to", "boss@example.com")],
        )
        .await;
    assert!(unset.body.contains("未发送") && unset.body.contains("XIANSUO_SMTP_URL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_settings_page_on_sqlite() {
    the_mail_settings_page_shows_the_server_and_sends_a_test_mail(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_settings_page_on_postgres() {
    the_mail_settings_page_shows_the_server_and_sends_a_test_mail(Backend::Postgres).await;
}
