//! What people are sent, as they choose it: each user's notification preferences through the
//! API and the profile page (a kind muted in the app stays out of their list; muted in both,
//! it is not written), in Chinese and English; and a web form's auto-reply previewed with a
//! sample submission before saving, without script, its bad template refused beside its field,
//! the saved one sent as previewed. The email side of the preferences is in `mail.rs`.

use crate::forms::{create_form, post_json};
use crate::on_both_databases;
use crate::support::TestApp;
use crate::ui::Browser;
use crate::ui_settings::text_by_id;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_app::channels::notifications::Kind;
use xiansuo_core::role::Role;
use xiansuo_store::Param;

on_both_databases!(
    a_user_chooses_which_notifications_they_get_through_the_api_and_the_profile,
    an_admin_previews_a_web_forms_auto_reply_before_saving_it,
);

const PREFERENCES: &str = "/api/v1/me/notification-preferences";

/// The preference of `kind` in a preferences answer: (in the app, by email).
fn choice(preferences: &Value, kind: &str) -> (bool, bool) {
    let item = preferences["kinds"]
        .as_array()
        .and_then(|kinds| kinds.iter().find(|k| k["kind"] == kind))
        .unwrap_or_else(|| panic!("{kind} in {preferences}"));
    (item["in_app"] == true, item["email"] == true)
}

/// How many notifications of `kind` were written for `user`, shown in the app or not.
async fn written(app: &TestApp, user: i64, kind: &str) -> i64 {
    app.db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND kind = ?",
            &[Param::Int(user), Param::from(kind)],
        )
        .await
        .unwrap()
        .map_or(0, |r| r.int("n"))
}

async fn a_user_chooses_which_notifications_they_get_through_the_api_and_the_profile(app: TestApp) {
    let rep = app.user("zhao", Role::Rep, None).await;
    let prefs = app.get(PREFERENCES, &rep.token).await;
    assert_eq!(prefs.status, StatusCode::OK, "{}", prefs.body);
    assert_eq!(
        prefs.body["kinds"].as_array().unwrap().len(),
        Kind::ALL.len()
    );
    assert_eq!(
        choice(&prefs.body, "lead.assigned"),
        (true, true),
        "on by default"
    );
    assert_eq!(prefs.body["daily_digest"], false);

    // Refused, naming what is wrong: an unknown kind, an unknown field.
    let put = |body: Value| app.call(Method::PUT, PREFERENCES, &rep.token, Some(body));
    let typo =
        put(json!({"kinds": [{"kind": "lead.asigned", "in_app": false, "email": true}]})).await;
    typo.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(
        typo.body["error"]["field"], "kinds[0].kind",
        "{}",
        typo.body
    );
    let unknown = put(json!({"daily": true})).await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "daily");

    // Assignments muted in the app, still mailed: written, but not in the rep's list.
    let muted =
        put(json!({"kinds": [{"kind": "lead.assigned", "in_app": false, "email": true}]})).await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.body);
    assert_eq!(choice(&muted.body, "lead.assigned"), (false, true));
    assert_eq!(
        choice(&muted.body, "followup.due"),
        (true, true),
        "others kept"
    );
    app.lead(
        &app.admin_token,
        json!({"name": "赵敏", "owner_id": rep.id}),
    )
    .await;
    assert_eq!(written(&app, rep.id, "lead.assigned").await, 1);
    let list = app.get("/api/v1/notifications", &rep.token).await;
    assert_eq!(list.body["items"], json!([]), "{}", list.body);
    assert_eq!(list.body["unread"], 0);

    // The profile page shows the choice; the rep turns assignments off in both and asks for a
    // daily digest.
    let browser = Browser::signed_in(&app, "zhao").await;
    let page = browser.get("/settings/profile").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("通知偏好") && page.body.contains("线索分配给我"));
    assert!(
        page.body.contains(
            "name=\"in_app\" value=\"lead.assigned\" aria-label=\"应用内: 线索分配给我\">"
        ),
        "unticked in the app: {}",
        page.body
    );
    assert!(page.body.contains(
        "name=\"email\" value=\"lead.assigned\" aria-label=\"邮件: 线索分配给我\" checked>"
    ));
    assert!(
        !page.body.contains("webhook.disabled"),
        "a rep is never told of webhooks"
    );
    let csrf = page.csrf();
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf), ("daily_digest", "on")];
    for kind in Kind::ALL.iter().filter(|k| **k != Kind::LeadAssigned) {
        form.push(("in_app", kind.code()));
        form.push(("email", kind.code()));
    }
    let saved = browser.post("/settings/notifications", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/settings/profile?saved=1");
    let page = browser.get(saved.location()).await;
    assert!(page.body.contains("id=\"field-daily_digest\" checked"));
    let prefs = app.get(PREFERENCES, &rep.token).await;
    assert_eq!(choice(&prefs.body, "lead.assigned"), (false, false));
    assert_eq!(choice(&prefs.body, "lead.recycle_warning"), (true, true));
    assert_eq!(prefs.body["daily_digest"], true);

    // Muted in both: the next assignment is not written for them at all.
    app.lead(
        &app.admin_token,
        json!({"name": "周芷若", "owner_id": rep.id}),
    )
    .await;
    assert_eq!(written(&app, rep.id, "lead.assigned").await, 1);

    // Without the CSRF token nothing changes.
    let forged = browser
        .post("/settings/notifications", &[("in_app", "lead.assigned")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // In English; an admin also chooses about failing webhooks.
    let english = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &app.admin_token,
            json!({"locale": "en"}),
        )
        .await;
    assert_eq!(english.status, StatusCode::OK, "{}", english.body);
    let page = browser.get("/settings/profile").await;
    assert!(page.body.contains("Notification preferences"));
    assert!(page.body.contains("A lead is assigned to me"));
    assert!(page.body.contains("Daily digest"));
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/profile").await;
    assert!(page.body.contains("value=\"webhook.disabled\""));
}

/// The web form settings' fields, as the page posts them, with this auto-reply.
fn form_fields<'a>(csrf: &'a str, reply: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf_token", csrf),
        ("name", "春季展会"),
        ("language", "zh"),
        ("ask", "name"),
        ("ask", "email"),
        ("ask", "company"),
        ("required", "name"),
        ("source", "web_form"),
        ("active", "on"),
        ("auto_reply.enabled", "on"),
    ];
    fields.extend_from_slice(reply);
    fields
}

async fn an_admin_previews_a_web_forms_auto_reply_before_saving_it(app: TestApp) {
    let form = create_form(
        &app,
        json!({"name": "春季展会", "fields": [{"field": "name", "required": true}, {"field": "email"}, {"field": "company"}]}),
    )
    .await;
    let id = form["id"].as_i64().unwrap();
    let key = form["key"].as_str().unwrap();
    let browser = Browser::signed_in(&app, "admin").await;
    let page = browser.get(&format!("/settings/forms/{id}")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("formaction=\"/settings/forms/"));
    let csrf = page.csrf();
    let reply = [
        ("auto_reply.subject_zh", "感谢您的咨询，{{name}}"),
        (
            "auto_reply.body_zh",
            "{{name}} 您好：\n感谢您代表{{company}}报名「{{form_name}}」。",
        ),
        ("auto_reply.subject_en", "Thank you, {{name}}"),
        (
            "auto_reply.body_en",
            "Dear {{name}}, thank you for {{form_name}}.",
        ),
    ];

    // The preview button posts the form; the page comes back with the messages filled in.
    let preview = browser
        .post(
            &format!("/settings/forms/{id}/preview"),
            &form_fields(&csrf, &reply),
        )
        .await;
    preview.assert_html(StatusCode::OK);
    assert!(preview.body.contains("中文访客收到"), "{}", preview.body);
    assert!(preview.body.contains("感谢您的咨询，张伟"));
    assert!(preview
        .body
        .contains("张伟 您好：\n感谢您代表恒远信息科技有限公司报名「春季展会」。"));
    assert!(preview.body.contains("Thank you, Emma Li"));
    assert!(preview
        .body
        .contains("Dear Emma Li, thank you for 春季展会."));
    assert!(
        preview.body.contains("value=\"Thank you, {{name}}\""),
        "what was typed is kept"
    );
    let stored = app
        .get(&format!("/api/v1/forms/{id}"), &app.admin_token)
        .await;
    assert_eq!(stored.body["auto_reply"]["enabled"], false, "nothing saved");

    // A misspelt variable is refused beside its field, by the check saving makes.
    let typo = [
        ("auto_reply.subject_zh", "感谢您的咨询，{{nmae}}"),
        ("auto_reply.body_zh", "您好"),
    ];
    let refused = browser
        .post(
            &format!("/settings/forms/{id}/preview"),
            &form_fields(&csrf, &typo),
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let error = text_by_id(&refused, "error-auto_reply-subject_zh")
        .expect("the refusal beside the Chinese subject");
    assert!(error.contains("nmae"), "{error}");
    let saving = browser
        .post(&format!("/settings/forms/{id}"), &form_fields(&csrf, &typo))
        .await;
    saving.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&saving, "error-auto_reply-subject_zh").is_some());

    // Saved, the real auto-reply is the one previewed.
    let saved = browser
        .post(
            &format!("/settings/forms/{id}"),
            &form_fields(&csrf, &reply),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = app
        .get(&format!("/api/v1/forms/{id}"), &app.admin_token)
        .await;
    assert_eq!(
        stored.body["auto_reply"]["subject_en"],
        "Thank you, {{name}}"
    );
    let sent = post_json(
        &app,
        key,
        json!({"name": "张伟", "email": "zhang.wei@example.com", "company": "恒远信息科技有限公司"}),
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let job = app
        .db
        .fetch_optional(
            "SELECT payload FROM jobs WHERE kind = ?",
            &[Param::from("email.send")],
        )
        .await
        .unwrap()
        .expect("an auto-reply queued");
    let email: Value = serde_json::from_str(&job.text("payload")).unwrap();
    assert_eq!(email["subject"], "感谢您的咨询，张伟");
    assert_eq!(
        email["body"],
        "张伟 您好：\n感谢您代表恒远信息科技有限公司报名「春季展会」。"
    );

    // A new form is previewed too, and the page speaks English.
    let me = app.get("/api/v1/me", &app.admin_token).await;
    let english = app
        .patch(
            &format!("/api/v1/users/{}", me.body["id"]),
            &app.admin_token,
            json!({"locale": "en"}),
        )
        .await;
    assert_eq!(english.status, StatusCode::OK, "{}", english.body);
    let preview = browser
        .post("/settings/forms/preview", &form_fields(&csrf, &reply[2..]))
        .await;
    preview.assert_html(StatusCode::OK);
    assert!(
        preview.body.contains("A Chinese visitor gets"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("An English visitor gets"));
    assert!(
        preview.body.contains("Thank you, 张伟"),
        "no Chinese message: the English one"
    );
    let forms = app.get("/api/v1/forms", &app.admin_token).await;
    assert_eq!(
        forms.body["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
}
