//! 外发邮件 (admins only): the SMTP server and sender address the app mails with (the password
//! masked), or how to configure them, and a test mail sent at once through the same channel as
//! every email, saying whether the mail server took it or why not. Read and sent through
//! `xiansuo_app::channels::mail`.

use super::frame::{admin_only, no_refusal, refusal, Errors, Frame, Menu, Refusal};
use crate::ui::page::{csrf_refusal, render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use xiansuo_app::channels::mail::{self, MailSettings, TestMail};

const PATH: &str = "/settings/mail";

/// The texts of the page.
pub(super) struct MailTexts {
    intro: &'static str,
    settings: &'static str,
    server: &'static str,
    from: &'static str,
    default_from: &'static str,
    not_configured: &'static str,
    how_to: &'static str,
    test_title: &'static str,
    test_hint: &'static str,
    to: &'static str,
    send: &'static str,
    sent: &'static str,
    not_sent: &'static str,
}

static ZH: MailTexts = MailTexts {
    intro: "提醒摘要、表单自动回复等邮件经此发出。设置在启动时给出，此页只显示。",
    settings: "当前设置",
    server: "SMTP 服务器",
    from: "发件人",
    default_from: "（默认）",
    not_configured: "未配置：不会发出任何邮件。",
    how_to: "启动时用 --smtp-url 或环境变量 XIANSUO_SMTP_URL 指定服务器（如 smtps://用户:密码@smtp.example.com），用 --smtp-from 或 XIANSUO_SMTP_FROM 指定发件人。",
    test_title: "发送测试邮件",
    test_hint: "立即发送一封测试邮件，看邮件服务器是否接收。",
    to: "收件地址",
    send: "发送",
    sent: "已发送：邮件服务器已接收测试邮件。",
    not_sent: "未发送：",
};

static EN: MailTexts = MailTexts {
    intro: "Notification digests, form auto-replies and other email leave through this server. It is set when the app starts; this page only shows it.",
    settings: "In effect",
    server: "SMTP server",
    from: "Sender",
    default_from: "(default)",
    not_configured: "Not configured: no email is sent.",
    how_to: "Start the app with --smtp-url or the environment variable XIANSUO_SMTP_URL naming the server (such as smtps://user:password@smtp.example.com), and --smtp-from or XIANSUO_SMTP_FROM for the sender.",
    test_title: "Send a test mail",
    test_hint: "Sends a test mail now and shows whether the mail server took it.",
    to: "To",
    send: "Send",
    sent: "Sent: the mail server took the test mail.",
    not_sent: "Not sent: ",
};

/// The test mail form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TestPost {
    csrf_token: String,
    to: String,
}

#[derive(Template)]
#[template(path = "settings_mail.html")]
struct MailPage {
    chrome: Chrome,
    menu: Menu,
    t: &'static MailTexts,
    settings: MailSettings,
    to: String,
    errors: Errors,
    alert: Option<String>,
    outcome: Option<TestMail>,
}

fn mail_page(
    state: &AppState,
    user: &Viewer,
    to: String,
    refused: Refusal,
    outcome: Option<TestMail>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let settings = match mail::settings(&user.actor, &state.smtp) {
        Ok(settings) => settings,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let page = MailPage {
        t: if user.actor.locale == "en" { &EN } else { &ZH },
        settings,
        to,
        errors: refused.errors,
        alert: refused.alert,
        outcome,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(refused.status, &page)
}

/// `GET /settings/mail`
pub(crate) async fn page(State(state): State<AppState>, user: Viewer) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    mail_page(&state, &user, String::new(), no_refusal(), None)
}

/// `POST /settings/mail/test`: sends a test mail and shows what became of it.
pub(crate) async fn send_test(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<TestPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    match mail::send_test(&user.actor, &state.smtp, &form.to, state.clock.now()).await {
        Ok(outcome) => mail_page(&state, &user, form.to, no_refusal(), Some(outcome)),
        Err(e) => match refusal(&user, PATH, e) {
            Ok(refused) => mail_page(&state, &user, form.to, refused, None),
            Err(page) => *page,
        },
    }
}
