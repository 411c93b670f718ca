//! Web forms: an admin sets one up through `/api/v1/forms`; visitors post it at `/f/{key}`
//! (as a browser's form post or as JSON from a script), and each post becomes a lead through
//! the lead API's own path, with the form's source, campaign and owner, the visit's UTM
//! parameters and referrer, consent, and guards against robots, floods and double submits.

use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use chrono::Duration;
use reqwest::header::{HeaderMap, ACCESS_CONTROL_ALLOW_ORIGIN, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    a_visitors_post_becomes_a_lead_with_the_forms_source_campaign_owner_and_utm,
    a_browser_post_gets_the_thank_you_page_in_its_language_or_the_redirect,
    bad_input_names_the_field_in_json_and_marks_it_on_the_page,
    the_honeypot_pretends_success_and_creates_nothing,
    a_double_submit_creates_one_lead_and_answers_the_same,
    an_address_may_post_a_form_ten_times_a_minute,
    cors_answers_only_the_allowed_origins,
    consent_is_required_and_recorded_with_the_version_of_its_text,
    fields_the_form_does_not_know_are_kept_on_the_submission,
    the_public_page_and_the_embed_snippet_show_the_form,
    form_settings_are_checked_and_for_admins_only,
    a_reps_body_is_not_read_and_an_admins_unknown_nested_field_is_named,
    the_submission_log_pages_and_filters,
);

/// Creates a form as the admin, asserting 201.
pub async fn create_form(app: &TestApp, body: Value) -> Value {
    let reply = app.post("/api/v1/forms", &app.admin_token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// Posts JSON to a form, without signing in.
pub async fn post_json(app: &TestApp, key: &str, body: Value) -> Reply {
    let response = app
        .client
        .post(format!("{}/f/{key}", app.base))
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    Reply::from(response).await
}

/// A browser's form post: status, headers and the HTML page.
async fn post_form(
    app: &TestApp,
    path: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{}{path}", app.base))
        .form(pairs)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn submissions(app: &TestApp, form: &Value) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/api/v1/forms/{}/submissions", form["id"]),
            &app.admin_token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

async fn lead_count(app: &TestApp) -> usize {
    app.get("/api/v1/leads?limit=500", &app.admin_token)
        .await
        .ids()
        .len()
}

fn key(form: &Value) -> String {
    form["key"].as_str().expect("a form key").to_owned()
}

fn contact_form() -> Value {
    json!({
        "name": "官网咨询",
        "fields": [
            {"field": "name", "required": true},
            {"field": "email"},
            {"field": "phone"},
            {"field": "company"},
        ],
    })
}

async fn a_visitors_post_becomes_a_lead_with_the_forms_source_campaign_owner_and_utm(app: TestApp) {
    let rep = app.user("wang", Role::Rep, None).await;
    let budget = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number"}),
        )
        .await;
    assert_eq!(budget.status, StatusCode::CREATED, "{}", budget.body);
    let form = create_form(
        &app,
        json!({
            "name": "2026 春季展会报名",
            "fields": [
                {"field": "name", "required": true, "label_zh": "您的姓名", "label_en": "Your name"},
                {"field": "phone", "required": true},
                {"field": "email"},
                {"field": "company"},
                {"field": "custom.budget"},
            ],
            "source": "event",
            "campaign": "2026春季展会",
            "owner_id": rep.id,
        }),
    )
    .await;
    assert_eq!(form["public_path"], format!("/f/{}", key(&form)));
    assert!(key(&form).len() >= 20, "a key that cannot be guessed");

    let reply = post_json(
        &app,
        &key(&form),
        json!({
            "name": "张伟", "phone": "138-0013-8000", "email": "Zhang.Wei@Example.com",
            "company": "上海恒远信息科技有限公司", "custom.budget": "50000",
            "utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "spring_expo",
            "utm_term": "crm", "utm_content": "banner_a", "referrer": "https://www.baidu.com/s?wd=crm",
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(reply.body["submission_id"].as_i64().is_some());
    assert_eq!(
        reply.body["message"],
        "感谢您的提交！我们已收到您的信息，会尽快与您联系。"
    );
    assert!(
        reply.body.get("lead_id").is_none(),
        "a visitor learns nothing about the CRM"
    );

    let log = submissions(&app, &form).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "created");
    assert_eq!(log[0]["utm_source"], "baidu");
    assert_eq!(log[0]["referrer"], "https://www.baidu.com/s?wd=crm");
    let lead_id = log[0]["lead_id"].as_i64().expect("the lead made of it");

    // The rep who owns the form's leads sees it, as the lead API would have made it.
    let lead = app
        .get(&format!("/api/v1/leads/{lead_id}"), &rep.token)
        .await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let lead = lead.body;
    assert_eq!(lead["name"], "张伟");
    assert_eq!(lead["phone_normalized"], "+8613800138000");
    assert_eq!(lead["email_normalized"], "zhang.wei@example.com");
    assert_eq!(lead["company_key"], "恒远信息科技");
    assert_eq!(lead["source"], "event");
    assert_eq!(lead["campaign"], "2026春季展会");
    assert_eq!(lead["owner_id"], rep.id);
    assert_eq!(lead["status"], "new");
    assert_eq!(lead["custom"], json!({"budget": 50000.0}));
    for (field, value) in [
        ("utm_source", "baidu"),
        ("utm_medium", "cpc"),
        ("utm_campaign", "spring_expo"),
        ("utm_term", "crm"),
        ("utm_content", "banner_a"),
        ("referrer", "https://www.baidu.com/s?wd=crm"),
    ] {
        assert_eq!(lead[field], value, "{field}");
    }
    let by_campaign = app
        .get("/api/v1/leads?utm_source=baidu", &app.admin_token)
        .await;
    assert_eq!(by_campaign.ids(), vec![lead_id]);

    let history = app
        .get(&format!("/api/v1/leads/{lead_id}/history"), &rep.token)
        .await;
    let created = &history.body["items"][0];
    assert_eq!(created["action"], "create");
    assert_eq!(created["channel"], "api");
    assert_eq!(
        created["actor"], "admin",
        "the form acts as the admin who made it"
    );
}

async fn a_browser_post_gets_the_thank_you_page_in_its_language_or_the_redirect(app: TestApp) {
    let mut body = contact_form();
    body["thank_you"] = json!({"zh": "谢谢，我们会在一个工作日内联系您。", "en": "Thanks, we will call you within a working day."});
    let form = create_form(&app, body).await;
    let path = format!("/f/{}", key(&form));

    let (status, headers, html) = post_form(
        &app,
        &path,
        &[("name", "李娜"), ("email", "lina@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(headers[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    assert!(html.contains("提交成功"), "{html}");
    assert!(
        html.contains("谢谢，我们会在一个工作日内联系您。"),
        "{html}"
    );

    let (status, _, html) = post_form(
        &app,
        &path,
        &[
            ("name", "Li Na"),
            ("email", "li.na@example.com"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Thanks, we will call you within a working day."),
        "{html}"
    );
    assert_eq!(lead_count(&app).await, 2);

    let redirecting = app
        .patch(
            &format!("/api/v1/forms/{}", form["id"]),
            &app.admin_token,
            json!({"redirect_url": "https://www.example.com/thanks"}),
        )
        .await;
    assert_eq!(redirecting.status, StatusCode::OK, "{}", redirecting.body);
    let (status, headers, _) = post_form(
        &app,
        &path,
        &[("name", "刘洋"), ("email", "liuyang@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "https://www.example.com/thanks");
    let json_reply = post_json(
        &app,
        &key(&form),
        json!({"name": "赵敏", "phone": "13912345678"}),
    )
    .await;
    assert_eq!(json_reply.status, StatusCode::CREATED);
    assert_eq!(
        json_reply.body["redirect_url"],
        "https://www.example.com/thanks"
    );
}

async fn bad_input_names_the_field_in_json_and_marks_it_on_the_page(app: TestApp) {
    let mut body = contact_form();
    body["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"field": "company_size"}));
    let form = create_form(&app, body).await;
    let k = key(&form);

    let missing = post_json(&app, &k, json!({"email": "a@example.com"})).await;
    missing.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(missing.body["error"]["field"], "name");

    let phone = post_json(&app, &k, json!({"name": "张伟", "phone": "12"})).await;
    phone.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(phone.body["error"]["field"], "phone");

    let size = post_json(&app, &k, json!({"name": "张伟", "company_size": "很多"})).await;
    size.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(size.body["error"]["field"], "company_size");

    let not_json = app
        .client
        .post(format!("{}/f/{k}", app.base))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    Reply::from(not_json)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let text = app
        .client
        .post(format!("{}/f/{k}", app.base))
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    Reply::from(text)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = post_json(&app, &k, json!({"name": "x".repeat(70 * 1024)})).await;
    huge.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // A browser gets the form back, in its language, with what was typed and the field marked.
    let (status, _, html) = post_form(
        &app,
        &format!("/f/{k}"),
        &[("email", "wang@example.com"), ("company", "恒远<科技>")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请检查标出的字段。"), "{html}");
    assert!(
        html.contains("<p class=\"xs-field-error\">必填</p>"),
        "{html}"
    );
    assert!(html.contains("value=\"wang@example.com\""), "{html}");
    assert!(
        html.contains("value=\"恒远&#60;科技&#62;\"")
            || html.contains("value=\"恒远&lt;科技&gt;\""),
        "what was typed is shown again, escaped: {html}"
    );
    let (status, _, html) = post_form(
        &app,
        &format!("/f/{k}?lang=en"),
        &[("name", "Wang"), ("phone", "12")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("is not a valid phone number"), "{html}");

    assert_eq!(lead_count(&app).await, 0, "nothing half-written");
    assert!(submissions(&app, &form).await.is_empty());

    let unknown = post_json(&app, "no-such-form", json!({"name": "张伟"})).await;
    unknown.assert_error(StatusCode::NOT_FOUND, "not_found");
    let (status, _, html) = post_form(&app, "/f/no-such-form", &[("name", "张伟")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("这个表单不存在或已停用。"), "{html}");
    app.patch(
        &format!("/api/v1/forms/{}", form["id"]),
        &app.admin_token,
        json!({"active": false}),
    )
    .await;
    post_json(&app, &k, json!({"name": "张伟"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn the_honeypot_pretends_success_and_creates_nothing(app: TestApp) {
    let form = create_form(&app, contact_form()).await;
    let k = key(&form);
    let robot = post_json(
        &app,
        &k,
        json!({"name": "Cheap pills", "email": "bot@spam.example", "website": "http://spam.example"}),
    )
    .await;
    assert_eq!(robot.status, StatusCode::CREATED, "{}", robot.body);
    let person = post_json(
        &app,
        &k,
        json!({"name": "张伟", "email": "zhang@example.com", "website": ""}),
    )
    .await;
    assert_eq!(person.status, StatusCode::CREATED);
    assert_eq!(
        robot.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        person.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        "a robot cannot tell it was caught"
    );
    assert_eq!(lead_count(&app).await, 1, "only the person became a lead");
    let log = submissions(&app, &form).await;
    let spam = log
        .iter()
        .find(|s| s["status"] == "spam")
        .expect("the robot's post is logged");
    assert_eq!(spam["lead_id"], Value::Null);
    assert_eq!(spam["values"]["name"], "Cheap pills");
}

async fn a_double_submit_creates_one_lead_and_answers_the_same(app: TestApp) {
    let form = create_form(&app, contact_form()).await;
    let k = key(&form);
    let body = json!({"name": "张伟", "email": "zhang@example.com"});
    let first = post_json(&app, &k, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.clock.advance(Duration::seconds(5));
    let again = post_json(
        &app,
        &k,
        json!({"name": "张伟 ", "email": "ZHANG@example.com", "company": "恒远"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the same answer");
    assert_eq!(lead_count(&app).await, 1);

    // Two clicks at the same instant: still one lead.
    let other = json!({"name": "李娜", "phone": "13912345678"});
    let (a, b) = tokio::join!(
        post_json(&app, &k, other.clone()),
        post_json(&app, &k, other.clone())
    );
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_eq!(a.body["submission_id"], b.body["submission_id"]);
    assert_eq!(lead_count(&app).await, 2);

    // Later, the same person is a new submission (the dedup policy decides about the lead).
    app.clock.advance(Duration::seconds(11));
    let later = post_json(&app, &k, body).await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert_ne!(later.body["submission_id"], first.body["submission_id"]);
    assert_eq!(submissions(&app, &form).await.len(), 3);
}

async fn an_address_may_post_a_form_ten_times_a_minute(app: TestApp) {
    let form = create_form(&app, contact_form()).await;
    let k = key(&form);
    for i in 0..10 {
        let reply = post_json(
            &app,
            &k,
            json!({"name": format!("访客{i}"), "email": format!("v{i}@example.com")}),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "post {i}: {}",
            reply.body
        );
        app.clock.advance(Duration::seconds(1));
    }
    let refused = app
        .client
        .post(format!("{}/f/{k}", app.base))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"name": "访客10", "email": "v10@example.com"}))
        .send()
        .await
        .unwrap();
    let refused = Reply::from(refused).await;
    refused.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert_eq!(
        refused.headers[RETRY_AFTER], "50",
        "the first post leaves the window in 50 s; X-Forwarded-For is not trusted by default"
    );
    let (status, headers, html) = post_form(&app, &format!("/f/{k}"), &[("name", "访客11")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[RETRY_AFTER], "50");
    assert!(html.contains("提交过于频繁，请 50 秒后再试。"), "{html}");
    assert_eq!(lead_count(&app).await, 10);

    app.clock.advance(Duration::seconds(51));
    let reply = post_json(
        &app,
        &k,
        json!({"name": "访客12", "email": "v12@example.com"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    // Another form has a limit of its own.
    let other = create_form(&app, contact_form()).await;
    let reply = post_json(&app, &key(&other), json!({"name": "访客13"})).await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

async fn cors_answers_only_the_allowed_origins(app: TestApp) {
    let mut body = contact_form();
    body["allowed_origins"] = json!(["https://www.example.com"]);
    let form = create_form(&app, body).await;
    let url = format!("{}/f/{}", app.base, key(&form));
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://www.example.com").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://www.example.com"
    );
    assert!(allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase()
        .contains("content-type"));
    let other = preflight("https://evil.example").await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert!(other.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    let post = |origin: &'static str, name: &'static str| {
        app.client
            .post(&url)
            .header("origin", origin)
            .json(&json!({"name": name}))
            .send()
    };
    let from_site = post("https://www.example.com", "张伟").await.unwrap();
    assert_eq!(from_site.status(), StatusCode::CREATED);
    assert_eq!(
        from_site.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://www.example.com"
    );
    let from_elsewhere = Reply::from(post("https://evil.example", "李娜").await.unwrap()).await;
    from_elsewhere.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert!(from_elsewhere
        .headers
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    // The form's own page posts from this server.
    let own = post(Box::leak(app.base.clone().into_boxed_str()), "刘洋")
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CREATED);
    assert_eq!(lead_count(&app).await, 2);

    // A form without a list takes plain posts from any site but lets no script read answers.
    let open = create_form(&app, contact_form()).await;
    let reply = app
        .client
        .post(format!("{}/f/{}", app.base, key(&open)))
        .header("origin", "https://partner.example")
        .form(&[("name", "赵敏")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

async fn consent_is_required_and_recorded_with_the_version_of_its_text(app: TestApp) {
    let mut body = contact_form();
    body["consent"] = json!({"text_zh": "我同意按隐私政策处理我的个人信息", "text_en": "I agree to the privacy policy", "required": true});
    let form = create_form(&app, body).await;
    assert_eq!(form["consent"]["version"], 1);
    let k = key(&form);

    let refused = post_json(&app, &k, json!({"name": "张伟"})).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "consent");
    let (status, _, html) = post_form(&app, &format!("/f/{k}"), &[("name", "张伟")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请勾选同意"), "{html}");

    let (status, _, _) = post_form(
        &app,
        &format!("/f/{k}"),
        &[("name", "张伟"), ("consent", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let log = submissions(&app, &form).await;
    assert_eq!(log[0]["consent"]["given"], true);
    assert_eq!(log[0]["consent"]["version"], 1);
    assert_eq!(
        log[0]["consent"]["text"],
        "我同意按隐私政策处理我的个人信息"
    );
    assert_eq!(log[0]["consent"]["at"], "2026-11-02T09:00:00.000Z");

    let changed = app
        .patch(
            &format!("/api/v1/forms/{}", form["id"]),
            &app.admin_token,
            json!({"consent": {"text_zh": "我同意隐私政策（2026 年 11 月版）", "text_en": "I agree to the privacy policy (November 2026)"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["consent"]["version"], 2);
    let renamed = app
        .patch(
            &format!("/api/v1/forms/{}", form["id"]),
            &app.admin_token,
            json!({"name": "官网咨询（新）"}),
        )
        .await;
    assert_eq!(
        renamed.body["consent"]["version"], 2,
        "only a new text is a new version"
    );

    app.clock.advance(Duration::minutes(1));
    let reply = post_json(
        &app,
        &k,
        json!({"name": "Li Na", "consent": true, "lang": "en"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let log = submissions(&app, &form).await;
    assert_eq!(log[0]["consent"]["version"], 2);
    assert_eq!(
        log[0]["consent"]["text"],
        "I agree to the privacy policy (November 2026)"
    );
    assert_eq!(log[0]["language"], "en");
}

async fn fields_the_form_does_not_know_are_kept_on_the_submission(app: TestApp) {
    let form = create_form(&app, contact_form()).await;
    let reply = post_json(
        &app,
        &key(&form),
        json!({"name": "张伟", "gclid": "abc123", "interests": ["CRM", "ERP"], "title": "经理"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let log = submissions(&app, &form).await;
    assert_eq!(
        log[0]["extra"],
        json!({"gclid": "abc123", "interests": ["CRM", "ERP"], "title": "经理"})
    );
    assert_eq!(log[0]["values"], json!({"name": "张伟"}));
    let lead = app
        .get(
            &format!("/api/v1/leads/{}", log[0]["lead_id"]),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        lead.body["title"],
        Value::Null,
        "a field the form does not ask for is not written"
    );
}

async fn the_public_page_and_the_embed_snippet_show_the_form(app: TestApp) {
    app.post(
        "/api/v1/custom-fields",
        &app.admin_token,
        json!({"object": "lead", "key": "product", "label": "感兴趣的产品", "field_type": "single_select", "options": ["CRM", "ERP"]}),
    )
    .await;
    let mut body = contact_form();
    body["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"field": "custom.product", "label_en": "Product"}));
    body["allowed_origins"] = json!(["https://www.example.com"]);
    let form = create_form(&app, body).await;
    let k = key(&form);

    let page = app
        .client
        .get(format!(
            "{}/f/{k}?utm_source=wechat&utm_campaign=spring",
            app.base
        ))
        .header("referer", "https://mp.weixin.qq.com/s/abc")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("frame-ancestors 'self' https://www.example.com"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>官网咨询</title>"), "{html}");
    assert!(html.contains(&format!("action=\"/f/{k}\"")), "{html}");
    assert!(html.contains(">姓名 <abbr"), "{html}");
    assert!(html.contains(">感兴趣的产品"), "{html}");
    assert!(
        html.contains("<option value=\"ERP\">ERP</option>"),
        "{html}"
    );
    assert!(
        html.contains("name=\"utm_source\" value=\"wechat\""),
        "{html}"
    );
    assert!(
        html.contains("name=\"referrer\" value=\"https://mp.weixin.qq.com/s/abc\""),
        "{html}"
    );
    assert!(html.contains("name=\"website\""), "the honeypot is there");
    assert!(!html.contains("<script"), "no script");

    let english = app
        .client
        .get(format!("{}/f/{k}?lang=en", app.base))
        .send()
        .await
        .unwrap();
    let html = english.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains(">Product"), "{html}");
    assert!(html.contains(">Submit</button>"), "{html}");

    // What the page posts, a browser would post: hidden fields included.
    let (status, _, _) = post_form(
        &app,
        &format!("/f/{k}"),
        &[
            ("name", "张伟"),
            ("custom.product", "ERP"),
            ("utm_source", "wechat"),
            ("referrer", "https://mp.weixin.qq.com/s/abc"),
            ("website", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let lead = &app.get("/api/v1/leads", &app.admin_token).await.body["items"][0];
    assert_eq!(lead["custom"]["product"], "ERP");
    assert_eq!(lead["utm_source"], "wechat");
    assert_eq!(lead["referrer"], "https://mp.weixin.qq.com/s/abc");

    let embed = app
        .get(
            &format!("/api/v1/forms/{}/embed", form["id"]),
            &app.admin_token,
        )
        .await;
    assert_eq!(embed.status, StatusCode::OK, "{}", embed.body);
    let url = format!("{}/f/{k}", app.base);
    assert_eq!(embed.body["url"], url);
    let snippet = embed.body["html"].as_str().unwrap();
    assert!(snippet.starts_with("<form"), "{snippet}");
    assert!(snippet.contains(&format!("action=\"{url}\"")), "{snippet}");
    assert!(snippet.contains("method=\"post\""), "{snippet}");
    assert!(!snippet.contains("<script"), "{snippet}");
    let english = app
        .get(
            &format!("/api/v1/forms/{}/embed?lang=en", form["id"]),
            &app.admin_token,
        )
        .await;
    assert!(english.body["html"]
        .as_str()
        .unwrap()
        .contains(">Name <abbr"));
    app.get(
        &format!("/api/v1/forms/{}/embed?lang=fr", form["id"]),
        &app.admin_token,
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn form_settings_are_checked_and_for_admins_only(app: TestApp) {
    let rep = app.user("wang", Role::Rep, None).await;
    let manager = app.user("li", Role::Manager, None).await;
    for token in [&rep.token, &manager.token] {
        app.post("/api/v1/forms", token, contact_form())
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        app.get("/api/v1/forms", token)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let t = &app.admin_token;
    let cases = [
        (json!({"fields": [{"field": "name"}]}), "name"),
        (json!({"name": "x", "fields": []}), "fields"),
        (
            json!({"name": "x", "fields": [{"field": "salary"}]}),
            "fields[0].field",
        ),
        (
            json!({"name": "x", "fields": [{"field": "custom.nope"}]}),
            "fields[0].field",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name", "required": "yes"}]}),
            "fields[0].required",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "dedup_policy": "ignore"}),
            "dedup_policy",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "source": "Web Form"}),
            "source",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "owner_id": 9999}),
            "owner_id",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "redirect_url": "javascript:alert(1)"}),
            "redirect_url",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "allowed_origins": ["example.com"]}),
            "allowed_origins[0]",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "language": "fr"}),
            "language",
        ),
        (
            json!({"name": "x", "fields": [{"field": "email"}], "auto_reply": {"enabled": true, "subject_zh": "您好 {{nam}}", "body_zh": "…"}}),
            "auto_reply.subject_zh",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "consent": {"required": true}}),
            "consent",
        ),
        (
            json!({"name": "x", "fields": [{"field": "name"}], "key": "mine"}),
            "key",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/forms", t, body.clone()).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    assert_eq!(app.get("/api/v1/forms", t).await.body["items"], json!([]));

    let form = create_form(&app, contact_form()).await;
    assert_eq!(form["language"], "zh");
    assert_eq!(form["source"], "web_form");
    assert_eq!(
        form["dedup_policy"],
        Value::Null,
        "the policy of the form's source applies"
    );
    assert_eq!(form["active"], true);
    assert_eq!(form["consent"], Value::Null);
    let id = form["id"].as_i64().unwrap();
    let changed = app
        .patch(
            &format!("/api/v1/forms/{id}"),
            t,
            json!({"dedup_policy": "merge", "owner_id": rep.id, "campaign": "双十一"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["dedup_policy"], "merge");
    assert_eq!(changed.body["owner_id"], rep.id);
    assert_eq!(
        changed.body["name"], "官网咨询",
        "what the change leaves out stays"
    );
    assert_eq!(changed.body["key"], form["key"]);
    app.patch(&format!("/api/v1/forms/{id}"), t, json!({"fields": []}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(
        app.get(&format!("/api/v1/forms/{id}"), t).await.body,
        changed.body
    );
    assert_eq!(app.get("/api/v1/forms", t).await.ids(), vec![id]);

    let deleted = app
        .call(Method::DELETE, &format!("/api/v1/forms/{id}"), t, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/forms/{id}"), t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    post_json(&app, &key(&form), json!({"name": "张伟"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/v1/forms/999/submissions", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn a_reps_body_is_not_read_and_an_admins_unknown_nested_field_is_named(app: TestApp) {
    let rep = app.user("wang", Role::Rep, None).await;
    let form = create_form(&app, contact_form()).await;
    let path = format!("/api/v1/forms/{}", form["id"]);
    // A rep may not set forms up, whatever the body says: no word about what is wrong with it.
    let bad = json!({"name": 7, "fields": "all", "auto_reply": {"colour": "red"}});
    app.post("/api/v1/forms", &rep.token, bad.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.patch(&path, &rep.token, bad)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    // An admin is told which field of a nested object is unknown, and what it takes.
    let mut body = contact_form();
    body["auto_reply"] = json!({"enabled": false, "colour": "red"});
    let refused = app.post("/api/v1/forms", &app.admin_token, body).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "auto_reply.colour");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("subject_zh"), "{message}");
    let refused = app
        .patch(
            &path,
            &app.admin_token,
            json!({"consent": {"text_zh": "我同意", "colour": "red"}}),
        )
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "consent.colour");
    assert_eq!(
        app.get(&path, &app.admin_token).await.body,
        form,
        "nothing changed"
    );
    assert_eq!(
        app.get("/api/v1/forms", &app.admin_token).await.ids().len(),
        1
    );
}

async fn the_submission_log_pages_and_filters(app: TestApp) {
    let form = create_form(&app, contact_form()).await;
    let k = key(&form);
    for i in 0..5 {
        post_json(
            &app,
            &k,
            json!({"name": format!("访客{i}"), "email": format!("v{i}@example.com")}),
        )
        .await;
        app.clock.advance(Duration::seconds(1));
    }
    post_json(&app, &k, json!({"name": "robot", "website": "x"})).await;
    let path = format!("/api/v1/forms/{}/submissions", form["id"]);
    let t = &app.admin_token;
    let first = app.get(&format!("{path}?limit=4"), t).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(first.body["items"][0]["status"], "spam", "newest first");
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app.get(&format!("{path}?limit=4&cursor={cursor}"), t).await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(second.body["next_cursor"], Value::Null);
    let created = app.get(&format!("{path}?status=created"), t).await;
    assert_eq!(created.body["items"].as_array().unwrap().len(), 5);
    app.get(&format!("{path}?status=lost"), t)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.get(&format!("{path}?colour=red"), t)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}
