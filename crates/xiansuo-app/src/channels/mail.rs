//! Outgoing email. A message is queued as an `email.send` job inside the transaction that
//! decided to send it ([`enqueue`]), so it leaves if and only if that change committed, and a
//! mail server that is down only delays it: the job is retried with backoff.
//!
//! The job sends over SMTP with lettre to the server `XIANSUO_SMTP_URL` names
//! (`smtp://host:port` plain, `smtp://user:pass@host:587?tls=required` with STARTTLS,
//! `smtps://user:pass@host` with TLS), from `XIANSUO_SMTP_FROM`. Subjects and bodies are
//! UTF-8: lettre encodes a Chinese subject as an RFC 2047 encoded word and picks a transfer
//! encoding for the body.
//!
//! In-app notifications are also mailed, as a digest: the periodic `mail.notifications` job
//! gathers each user's unread notifications of the last hour into one message (so a bulk
//! assignment sends one email, not a thousand), for users with an email address, and only when
//! an SMTP server is configured. Creating a notification costs nothing more than before.

use crate::error::StoreResult;
use crate::jobs::queue::{self, Job, JobEnv, JobFailure};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use xiansuo_core::clock::{from_millis, to_millis};
use xiansuo_core::Invalid;
use xiansuo_store::{Db, Param, Tx};

/// The job that sends one message (`email.send`).
pub struct SendEmail;

/// One plain-text message to send.
#[derive(Debug, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait]
impl Job for SendEmail {
    const KIND: &'static str = "email.send";
    type Payload = Email;

    async fn run(
        &self,
        _: &Db,
        env: &JobEnv,
        email: Email,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure> {
        send_job(env, &email, at).await
    }
}

/// The periodic job that mails notification digests (`mail.notifications`).
pub struct NotificationDigest;

#[async_trait]
impl Job for NotificationDigest {
    const KIND: &'static str = "mail.notifications";
    const EVERY: Option<i64> = Some(60);
    type Payload = ();

    async fn run(&self, db: &Db, env: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        notification_digest(db, env, at).await
    }
}

/// The sender when `XIANSUO_SMTP_FROM` is not set.
pub const DEFAULT_FROM: &str = "Xiansuo <xiansuo@localhost>";

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Notifications older than this when the digest first sees them are not mailed: they are
/// in the app, and mailing a backlog (say, after SMTP is first configured) would flood people.
const DIGEST_MAX_AGE_MS: i64 = 3600 * 1000;

/// The most notifications one digest run handles; the rest wait for the next run.
const DIGEST_BATCH: i64 = 1000;

/// Queues a plain-text message to `to`, sent by the job runner (retried while the mail server
/// cannot be reached).
pub async fn enqueue(
    tx: &mut Tx,
    to: &str,
    subject: &str,
    body: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let email = Email {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
    };
    queue::enqueue::<SendEmail>(tx, &email, now_ms, None).await?;
    Ok(())
}

/// Where outgoing mail goes: the SMTP server and the sender, as the job runner has them.
#[derive(Debug, Clone, Default)]
pub struct SmtpSettings {
    /// `smtp://host:port`, `smtps://user:pass@host` …; no email is sent without it.
    pub url: Option<String>,
    /// The sender address; [`DEFAULT_FROM`] without it.
    pub from: Option<String>,
}

impl SmtpSettings {
    /// The settings the job runner sends with.
    pub fn of(env: &JobEnv) -> SmtpSettings {
        SmtpSettings {
            url: env.smtp_url.clone(),
            from: env.smtp_from.clone(),
        }
    }
}

/// The outgoing mail settings in effect, as an admin may see them.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct MailSettings {
    /// The SMTP URL with its password replaced by `****`; `None` when none is configured.
    pub smtp_url: Option<String>,
    /// The sender address.
    pub from: String,
    /// Whether `from` is [`DEFAULT_FROM`] because none is configured.
    pub default_from: bool,
}

/// The outgoing mail settings in effect (admins only).
pub fn settings(actor: &Actor, smtp: &SmtpSettings) -> StoreResult<MailSettings> {
    actor.require_admin("read the mail settings")?;
    Ok(MailSettings {
        smtp_url: smtp.url.as_deref().map(masked),
        from: smtp.from.clone().unwrap_or_else(|| DEFAULT_FROM.to_owned()),
        default_from: smtp.from.is_none(),
    })
}

/// A URL with the password of its user info replaced by `****`.
fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:****@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// What became of a test mail.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct TestMail {
    pub sent: bool,
    /// Why it was not sent.
    pub reason: Option<String>,
}

/// Sends a test message to `to` now, through the same channel as every email, and says
/// whether the mail server took it (admins only). An address that is not one is refused.
pub async fn send_test(
    actor: &Actor,
    smtp: &SmtpSettings,
    to: &str,
    at: DateTime<Utc>,
) -> StoreResult<TestMail> {
    actor.require_admin("send a test mail")?;
    let to = to.trim();
    if let Err(e) = to.parse::<Mailbox>() {
        return Err(Invalid::new("to", format!("'{to}' is not an email address: {e}")).into());
    }
    let email = Email {
        to: to.to_owned(),
        subject: "线索 Xiansuo: 测试邮件 / test mail".to_owned(),
        body: "这是一封测试邮件：外发邮件设置可用。\nThis is a test mail: outgoing mail works.\n"
            .to_owned(),
    };
    Ok(match send(smtp, &email, at).await {
        Ok(()) => TestMail {
            sent: true,
            reason: None,
        },
        Err(JobFailure::Retry(reason) | JobFailure::Permanent(reason)) => TestMail {
            sent: false,
            reason: Some(reason),
        },
    })
}

/// The `email.send` job: sends the message in `payload` through the configured SMTP server.
/// A server that cannot be reached, times out or answers with a temporary (4xx) error is
/// retried; a refused address or a permanent (5xx) error is not.
async fn send_job(env: &JobEnv, email: &Email, at: DateTime<Utc>) -> Result<(), JobFailure> {
    send(&SmtpSettings::of(env), email, at).await
}

/// Sends one message through the SMTP server of `smtp`.
async fn send(smtp: &SmtpSettings, email: &Email, at: DateTime<Utc>) -> Result<(), JobFailure> {
    let Some(url) = smtp.url.as_deref() else {
        return Err(JobFailure::Permanent(
            "no SMTP server is configured (set XIANSUO_SMTP_URL)".into(),
        ));
    };
    let message = build(
        smtp.from.as_deref().unwrap_or(DEFAULT_FROM),
        &email.to,
        &email.subject,
        &email.body,
        at,
    )?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| JobFailure::Permanent(format!("the SMTP URL cannot be used: {e}")))?
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(JobFailure::Permanent(format!(
            "the mail server refused the message: {e}"
        ))),
        Err(e) => Err(JobFailure::Retry(format!("sending failed: {e}"))),
    }
}

/// A plain-text UTF-8 message dated `at`.
fn build(
    from: &str,
    to: &str,
    subject: &str,
    body: &str,
    at: DateTime<Utc>,
) -> Result<Message, JobFailure> {
    let from: Mailbox = from.parse().map_err(|e| {
        JobFailure::Permanent(format!("the sender address '{from}' is not valid: {e}"))
    })?;
    let to: Mailbox = to.parse().map_err(|e| {
        JobFailure::Permanent(format!("the recipient address '{to}' is not valid: {e}"))
    })?;
    // A subject is one line; a line break in it would start a header.
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject.trim())
        .date(at.into())
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| JobFailure::Permanent(format!("the message cannot be built: {e}")))
}

/// One unread notification waiting for the digest.
struct Pending {
    message: String,
    created_at: i64,
}

/// How long a daily digest's notifications wait at most: a day and an hour's slack.
const DAILY_MAX_AGE_MS: i64 = 25 * 3600 * 1000;

/// The hour of the day, in the user's time zone, a daily digest is mailed at.
const DAILY_HOUR: u32 = 8;

/// The last instant at or before `at` when a daily digest was due in `zone`: 08:00 there today,
/// or yesterday when it is not yet 08:00.
fn daily_due(zone: Option<&str>, at: DateTime<Utc>) -> i64 {
    let zone: chrono_tz::Tz = zone
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let local = at.with_timezone(&zone);
    let today = local
        .date_naive()
        .and_hms_opt(DAILY_HOUR, 0, 0)
        .and_then(|t| t.and_local_timezone(zone).earliest())
        .map_or(at, |t| t.with_timezone(&Utc));
    let due = if today > at {
        today - chrono::Duration::days(1)
    } else {
        today
    };
    to_millis(due)
}

/// The `mail.notifications` job: mails each user with an email address one digest of their
/// unread notifications — within the minute, or at 08:00 in their time zone for those who chose
/// a daily digest — then marks every notification it looked at as handled. Does nothing when no
/// SMTP server is configured.
async fn notification_digest(db: &Db, env: &JobEnv, at: DateTime<Utc>) -> Result<(), JobFailure> {
    if env.smtp_url.is_none() {
        return Ok(());
    }
    let at_ms = to_millis(at);
    let mut tx = db.begin().await?;
    // Read or old notifications are not worth an email.
    tx.execute(
        "UPDATE notifications SET mailed_at = ? WHERE mailed_at IS NULL \
         AND (read_at IS NOT NULL OR created_at < ? OR (created_at < ? \
         AND user_id NOT IN (SELECT id FROM users WHERE daily_digest = 1)))",
        &[
            Param::Int(at_ms),
            Param::Int(at_ms - DAILY_MAX_AGE_MS),
            Param::Int(at_ms - DIGEST_MAX_AGE_MS),
        ],
    )
    .await?;
    let rows = tx
        .fetch_all(
            "SELECT n.id, n.user_id, n.message, n.created_at, u.email, u.locale, u.time_zone, \
             u.daily_digest, u.digest_mailed_at, \
             u.active = 1 AND u.deleted_at IS NULL AS reachable \
             FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE n.mailed_at IS NULL AND n.created_at <= ? \
             ORDER BY u.daily_digest, n.user_id, n.id LIMIT ?",
            &[Param::Int(at_ms), Param::Int(DIGEST_BATCH)],
        )
        .await?;
    let mut digests: BTreeMap<(String, String, bool), Vec<Pending>> = BTreeMap::new();
    let mut handled: Vec<String> = Vec::new();
    let mut daily_users: Vec<String> = Vec::new();
    for row in &rows {
        let daily = row.int("daily_digest") == 1;
        if daily {
            let due = daily_due(row.opt_text("time_zone").as_deref(), at);
            if row.opt_int("digest_mailed_at").is_some_and(|m| m >= due) {
                // Waits for the next day's digest.
                continue;
            }
        }
        handled.push(row.int("id").to_string());
        let email = row.text("email");
        if row.int("reachable") == 1 && !email.trim().is_empty() {
            if daily {
                daily_users.push(row.int("user_id").to_string());
            }
            digests
                .entry((email, row.text("locale"), daily))
                .or_default()
                .push(Pending {
                    message: row.text("message"),
                    created_at: row.int("created_at"),
                });
        }
    }
    for ((email, locale, daily), items) in &digests {
        let (subject, body) = digest_text(locale, *daily, items);
        enqueue(&mut tx, email, &subject, &body, at_ms).await?;
    }
    if !handled.is_empty() {
        tx.execute(
            &format!(
                "UPDATE notifications SET mailed_at = ? WHERE id IN ({})",
                handled.join(",")
            ),
            &[Param::Int(at_ms)],
        )
        .await?;
    }
    if !daily_users.is_empty() {
        daily_users.dedup();
        tx.execute(
            &format!(
                "UPDATE users SET digest_mailed_at = ? WHERE id IN ({})",
                daily_users.join(",")
            ),
            &[Param::Int(at_ms)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The subject and body of a digest (a daily one says so), in the user's language, times in
/// China Standard Time.
fn digest_text(locale: &str, daily: bool, items: &[Pending]) -> (String, String) {
    let cst = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
    let lines: Vec<String> = items
        .iter()
        .map(|p| {
            let time = from_millis(p.created_at).with_timezone(&cst);
            format!("- {} {}", time.format("%Y-%m-%d %H:%M"), p.message)
        })
        .collect();
    if locale == "en" {
        let subject = if daily {
            format!(
                "Xiansuo: your daily digest, {} notification(s)",
                items.len()
            )
        } else {
            format!("Xiansuo: {} new notification(s)", items.len())
        };
        (
            subject,
            format!(
                "{}\n\nRead them in Xiansuo. Times are China Standard Time.\n",
                lines.join("\n")
            ),
        )
    } else {
        let subject = if daily {
            format!("线索：每日通知汇总，共 {} 条", items.len())
        } else {
            format!("线索：你有 {} 条新通知", items.len())
        };
        (
            subject,
            format!(
                "{}\n\n请登录线索系统查看。时间为北京时间。\n",
                lines.join("\n")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_password_of_an_smtp_url_is_masked() {
        assert_eq!(
            masked("smtps://mailer:s3cr3t@smtp.example.com:465?tls=required"),
            "smtps://mailer:****@smtp.example.com:465?tls=required"
        );
        assert_eq!(masked("smtp://127.0.0.1:25"), "smtp://127.0.0.1:25");
        assert_eq!(masked("smtp://token@host"), "smtp://token:****@host");
    }

    #[test]
    fn a_message_has_an_encoded_chinese_subject_and_a_single_line_subject() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let message = build(
            DEFAULT_FROM,
            "张伟 <zhang@example.com>",
            "感谢您的咨询\r\nBcc: victim@example.com",
            "您好",
            at,
        )
        .unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(
            !text.lines().any(|l| l.starts_with("Bcc:")),
            "no header can be slipped in: {text}"
        );
        assert!(text.contains("Date: Mon, 02 Nov 2026 09:00:00"), "{text}");
    }

    #[test]
    fn bad_addresses_are_permanent_failures() {
        let at = Utc::now();
        assert!(matches!(
            build(DEFAULT_FROM, "not an address", "s", "b", at),
            Err(JobFailure::Permanent(_))
        ));
        assert!(matches!(
            build("nobody", "a@example.com", "s", "b", at),
            Err(JobFailure::Permanent(_))
        ));
    }

    #[test]
    fn a_digest_lists_each_notification_in_the_users_language() {
        let items = [
            Pending {
                message: "线索「张伟」已分配给你".into(),
                created_at: Utc
                    .with_ymd_and_hms(2026, 11, 2, 1, 30, 0)
                    .unwrap()
                    .timestamp_millis(),
            },
            Pending {
                message: "线索「李娜」已分配给你".into(),
                created_at: 0,
            },
        ];
        let (subject, body) = digest_text("zh", false, &items);
        assert_eq!(subject, "线索：你有 2 条新通知");
        assert!(body.starts_with("- 2026-11-02 09:30 线索「张伟」已分配给你\n"));
        assert!(digest_text("en", false, &items)
            .0
            .contains("2 new notification"));
        assert!(digest_text("en", true, &items).0.contains("daily digest"));
    }

    #[test]
    fn a_daily_digest_is_due_at_eight_in_the_users_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        // 17:00 in Shanghai: today's 08:00 there, 00:00 UTC.
        let shanghai = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        assert_eq!(daily_due(Some("Asia/Shanghai"), at), to_millis(shanghai));
        assert_eq!(daily_due(None, at), to_millis(shanghai));
        // 04:00 in New York: yesterday's 08:00 there (EST), 13:00 UTC.
        let new_york = Utc.with_ymd_and_hms(2026, 11, 1, 13, 0, 0).unwrap();
        assert_eq!(daily_due(Some("America/New_York"), at), to_millis(new_york));
    }
}
