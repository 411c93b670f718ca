//! The web UI as people use it: over HTTP with a cookie-keeping client (sign-in cookie, CSRF on
//! every form, creating and finding a lead, data scope, escaping, language; the public pool, the
//! notifications, the pipeline board, the import wizard and the dashboard), and once in a real headless
//! Chromium driven through ChromeDriver, at desktop and at phone width.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(
    signing_in_sets_an_http_only_same_site_cookie_and_signing_out_ends_it,
    forms_without_the_right_csrf_token_are_refused_and_change_nothing,
    a_lead_created_through_the_form_is_found_by_its_two_character_name,
    a_rep_cannot_open_another_reps_lead,
    html_in_a_lead_is_shown_as_text,
    switching_to_english_changes_the_labels,
    a_rep_claims_a_pool_lead_within_the_limits_and_returns_it,
    reading_notifications_lowers_the_unread_count_in_the_top_bar,
    a_deal_moves_to_another_column_of_the_board_and_is_won_or_lost,
    a_csv_is_uploaded_mapped_imported_and_its_row_report_downloaded,
    the_wizard_gives_the_records_to_the_chosen_owner_within_the_users_scope,
    the_new_pages_speak_english,
    the_dashboard_shows_the_reports_of_the_users_scope,
    the_dashboard_speaks_english_and_refuses_a_bad_range_on_the_page,
);

/// A page as the server sent it.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("a redirect, got {}: {}", self.status, self.body))
    }

    /// The value of the first hidden `csrf_token` field.
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("a CSRF field in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("the end of the value");
        self.body[start..start + end].to_owned()
    }

    pub(crate) fn assert_html(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.headers[CONTENT_TYPE], "text/html; charset=utf-8");
    }
}

/// A browser without a browser: keeps cookies and shows redirects instead of following them.
pub(crate) struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        Browser {
            base: app.base.clone(),
            client,
        }
    }

    /// A browser signed in through the sign-in form.
    pub(crate) async fn signed_in(app: &TestApp, username: &str) -> Browser {
        let browser = Browser::new(app);
        let form = browser.get("/login").await;
        let page = browser
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", "password123"),
                    ("csrf_token", &form.csrf()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), "/leads");
        browser
    }

    async fn page(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        Page {
            status,
            headers,
            body: response.text().await.expect("a body"),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        Self::page(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("the server answers"),
        )
        .await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .expect("the server answers"),
        )
        .await
    }

    /// Sends the import form for leads: the CSRF token first, then the file, as a browser does.
    async fn upload(&self, csrf: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        self.upload_kind(csrf, "leads", file_name, bytes).await
    }

    /// Sends the import form for `kind` (`leads`, `accounts`, …).
    async fn upload_kind(&self, csrf: &str, kind: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf.to_owned())
            .text("kind", kind.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
            );
        Self::page(
            self.client
                .post(format!("{}/imports", self.base))
                .multipart(form)
                .send()
                .await
                .expect("the server answers"),
        )
        .await
    }

    /// The CSRF token of the signed-in session, as the pages carry it.
    pub(crate) async fn csrf(&self) -> String {
        self.get("/leads/new").await.csrf()
    }
}

/// The id at the end of a `/leads/{id}` redirect.
pub(crate) fn lead_id(location: &str) -> i64 {
    location
        .trim_start_matches("/leads/")
        .parse()
        .unwrap_or_else(|_| panic!("a lead address, got {location}"))
}

async fn signing_in_sets_an_http_only_same_site_cookie_and_signing_out_ends_it(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    let browser = Browser::new(&app);

    let page = browser.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/leads");
    let page = browser.get("/leads").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");

    let form = browser.get("/login").await;
    form.assert_html(StatusCode::OK);
    assert!(form.body.contains("登录"), "{}", form.body);

    let wrong = browser
        .post(
            "/login",
            &[
                ("username", "wang"),
                ("password", "wrong password"),
                ("csrf_token", &form.csrf()),
            ],
        )
        .await;
    wrong.assert_html(StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"), "{}", wrong.body);
    assert!(
        wrong.body.contains("value=\"wang\""),
        "the username is kept: {}",
        wrong.body
    );
    assert!(wrong
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("xs_session=")));

    // A sign-in form posted from elsewhere has no matching token cookie.
    let forged = Browser::new(&app)
        .post(
            "/login",
            &[
                ("username", "wang"),
                ("password", "password123"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    forged.assert_html(StatusCode::FORBIDDEN);
    assert!(forged
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("xs_session=")));

    let page = browser
        .post(
            "/login",
            &[
                ("username", "wang"),
                ("password", "password123"),
                ("csrf_token", &wrong.csrf()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/leads");
    let session = page
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("xs_session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");

    let list = browser.get("/leads").await;
    list.assert_html(StatusCode::OK);
    assert!(list.body.contains("新建线索"), "{}", list.body);
    assert_eq!(list.headers[CACHE_CONTROL], "no-store");

    let css = browser.get("/assets/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.headers[CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));

    let page = browser
        .post("/logout", &[("csrf_token", &list.csrf())])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");
    assert_eq!(browser.get("/leads").await.location(), "/login");

    for _ in 0..5 {
        let form = browser.get("/login").await;
        browser
            .post(
                "/login",
                &[
                    ("username", "wang"),
                    ("password", "wrong password"),
                    ("csrf_token", &form.csrf()),
                ],
            )
            .await;
    }
    let form = browser.get("/login").await;
    let limited = browser
        .post(
            "/login",
            &[
                ("username", "wang"),
                ("password", "password123"),
                ("csrf_token", &form.csrf()),
            ],
        )
        .await;
    limited.assert_html(StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.body.contains("登录失败次数过多"),
        "{}",
        limited.body
    );
}

async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing(app: TestApp) {
    let rep = app.user("li", Role::Rep, None).await;
    let lead = app.lead(&rep.token, json!({"name": "李娜"})).await;
    let id = lead["id"].as_i64().unwrap();
    let browser = Browser::signed_in(&app, "li").await;
    let csrf = browser.csrf().await;
    let wrong = "0".repeat(csrf.len());

    for token in [None, Some(wrong.as_str()), Some("")] {
        let with_token = |mut form: Vec<(&'static str, String)>| {
            if let Some(token) = token {
                form.push(("csrf_token", token.to_owned()));
            }
            form
        };
        let posts = [
            (
                "/leads".to_owned(),
                with_token(vec![("name", "张伟".to_owned())]),
            ),
            (
                format!("/leads/{id}"),
                with_token(vec![("name", "改名".to_owned())]),
            ),
            (
                format!("/leads/{id}/activities"),
                with_token(vec![
                    ("type", "call".to_owned()),
                    ("content", "伪造".to_owned()),
                ]),
            ),
            (
                "/settings/locale".to_owned(),
                with_token(vec![
                    ("locale", "en".to_owned()),
                    ("back", "/leads".to_owned()),
                ]),
            ),
            ("/logout".to_owned(), with_token(vec![])),
        ];
        for (path, form) in posts {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = browser.post(&path, &form).await;
            page.assert_html(StatusCode::FORBIDDEN);
            assert!(page.body.contains("表单已过期"), "{path}: {}", page.body);
        }
    }

    let leads = app.get("/api/v1/leads", &app.admin_token).await;
    assert_eq!(leads.ids(), vec![id], "no lead was created");
    let lead = app.get(&format!("/api/v1/leads/{id}"), &rep.token).await;
    assert_eq!(lead.body["name"], "李娜");
    let activities = app
        .get(&format!("/api/v1/leads/{id}/activities"), &rep.token)
        .await;
    assert_eq!(activities.body["items"], json!([]));
    let me = app.get("/api/v1/me", &rep.token).await;
    assert_eq!(me.body["locale"], "zh");
    // The session survived the forged sign-out.
    assert_eq!(browser.get("/leads").await.status, StatusCode::OK);
}

async fn a_lead_created_through_the_form_is_found_by_its_two_character_name(app: TestApp) {
    let rep = app.user("zhou", Role::Rep, None).await;
    app.lead(
        &rep.token,
        json!({"name": "李雷", "company": "北京星河有限公司", "phone": "13900001111"}),
    )
    .await;
    let browser = Browser::signed_in(&app, "zhou").await;
    let form = browser.get("/leads/new").await;
    form.assert_html(StatusCode::OK);
    let csrf = form.csrf();

    // A validation error keeps what was typed and says what is wrong next to the field.
    let page = browser
        .post(
            "/leads",
            &[
                ("csrf_token", &csrf),
                ("name", "  "),
                ("company", "杭州云启科技有限公司"),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("value=\"杭州云启科技有限公司\""),
        "{}",
        page.body
    );
    let name_field = &page.body[page.body.find("id=\"field-name\"").unwrap()..];
    let message = name_field
        .find("必填")
        .expect("the message next to the name field");
    assert!(
        message < name_field.find("id=\"field-company\"").unwrap(),
        "{}",
        page.body
    );
    let page = browser
        .post(
            "/leads",
            &[("csrf_token", &csrf), ("name", "王芳"), ("phone", "12")],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("value=\"王芳\""), "{}", page.body);
    let phone_field = &page.body[page.body.find("id=\"field-phone\"").unwrap()
        ..page.body.find("id=\"field-email\"").unwrap()];
    assert!(
        phone_field.contains("class=\"error\""),
        "the message next to the phone field: {}",
        page.body
    );
    assert_eq!(
        app.get("/api/v1/leads", &rep.token).await.ids().len(),
        1,
        "nothing was created"
    );

    let page = browser
        .post(
            "/leads",
            &[
                ("csrf_token", &csrf),
                ("name", "王芳"),
                ("company", "杭州云启科技有限公司"),
                ("title", "采购经理"),
                ("phone", "138 1234 5678"),
                ("email", "wangfang@example.com"),
                ("source", "event"),
                ("status", "new"),
                ("grade", "B"),
                ("industry", "制造业"),
                ("province", "浙江"),
                ("city", "杭州"),
                ("tags", "展会，重点客户, 2026"),
                ("description", "在展会上留下名片"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id = lead_id(page.location());
    let lead = app
        .get(&format!("/api/v1/leads/{id}"), &rep.token)
        .await
        .body;
    assert_eq!(lead["name"], "王芳");
    assert_eq!(lead["source"], "event");
    assert_eq!(lead["grade"], "B");
    assert_eq!(lead["tags"], json!(["展会", "重点客户", "2026"]));
    assert_eq!(lead["owner_id"], rep.id);
    let history = app
        .get(&format!("/api/v1/leads/{id}/history"), &rep.token)
        .await
        .body;
    assert_eq!(history["items"][0]["channel"], "ui", "{history}");

    let found = browser.get("/leads?q=王芳").await;
    found.assert_html(StatusCode::OK);
    assert!(
        found.body.contains("王芳")
            && found.body.contains("采购经理")
            && found.body.contains("2026-11-02"),
        "{}",
        found.body
    );
    assert!(!found.body.contains("李雷"), "{}", found.body);
    for (query, expected, other) in [
        ("q=5678", "王芳", "李雷"),
        ("q=星河", "李雷", "王芳"),
        ("grade=B", "王芳", "李雷"),
        ("source=event&sort=name", "王芳", "李雷"),
    ] {
        let page = browser.get(&format!("/leads?{query}")).await;
        assert!(
            page.body.contains(expected) && !page.body.contains(other),
            "{query}: {}",
            page.body
        );
    }
    let bad = browser.get("/leads?status=won").await;
    bad.assert_html(StatusCode::OK);
    assert!(bad.body.contains("class=\"alert\""), "{}", bad.body);

    // The edit form sends what changed; an emptied field is cleared.
    let page = browser
        .post(
            &format!("/leads/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name", "王芳"),
                ("company", "杭州云启科技有限公司"),
                ("title", ""),
                ("phone", "138 1234 5678"),
                ("email", "wangfang@example.com"),
                ("source", "event"),
                ("status", "qualified"),
                ("grade", "B"),
                ("industry", "制造业"),
                ("province", "浙江"),
                ("city", "杭州"),
                ("tags", "展会, 重点客户, 2026"),
                ("description", "在展会上留下名片"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let history = app
        .get(&format!("/api/v1/leads/{id}/history"), &rep.token)
        .await
        .body;
    let fields: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["field"].as_str())
        .collect();
    assert_eq!(fields, ["status", "title"], "{history}");
    let page = browser.get(&format!("/leads/{id}")).await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains("已鉴定") && page.body.contains("采购经理"),
        "the history shows the change: {}",
        page.body
    );

    // Paging: the next page continues where the first ended.
    for n in 0..35 {
        app.lead(&rep.token, json!({"name": format!("客户{n:02}")}))
            .await;
    }
    let first = browser.get("/leads?sort=name").await;
    let marker = "rel=\"next\"";
    let link_end = first.body.find(marker).expect("a next page link");
    let href_start = first.body[..link_end].rfind("href=\"").unwrap() + 6;
    let href = shown_text(first.body[href_start..link_end].trim_end_matches("\" "));
    assert!(first.body.contains("下一页"));
    let second = browser.get(&href).await;
    second.assert_html(StatusCode::OK);
    assert!(
        second.body.contains("王芳") && !second.body.contains("客户00"),
        "{}",
        second.body
    );
    assert!(second.body.contains("第一页"), "{}", second.body);
}

async fn a_rep_cannot_open_another_reps_lead(app: TestApp) {
    let owner = app.user("chen", Role::Rep, None).await;
    app.user("zhao", Role::Rep, None).await;
    let lead = app
        .lead(&owner.token, json!({"name": "孙丽", "company": "秘密公司"}))
        .await;
    let id = lead["id"].as_i64().unwrap();

    let browser = Browser::signed_in(&app, "zhao").await;
    let csrf = browser.csrf().await;
    for path in [
        format!("/leads/{id}"),
        format!("/leads/{id}/edit"),
        "/leads/999999".into(),
        "/leads/abc".into(),
    ] {
        let page = browser.get(&path).await;
        page.assert_html(StatusCode::NOT_FOUND);
        assert!(
            !page.body.contains("孙丽") && !page.body.contains("秘密公司"),
            "{path}: {}",
            page.body
        );
    }
    let page = browser
        .post(
            &format!("/leads/{id}/activities"),
            &[("csrf_token", &csrf), ("type", "call")],
        )
        .await;
    page.assert_html(StatusCode::NOT_FOUND);
    let page = browser
        .post(
            &format!("/leads/{id}"),
            &[("csrf_token", &csrf), ("name", "改名")],
        )
        .await;
    page.assert_html(StatusCode::NOT_FOUND);
    let list = browser.get("/leads").await;
    assert!(!list.body.contains("孙丽"), "{}", list.body);
    assert_eq!(
        app.get(&format!("/api/v1/leads/{id}"), &owner.token)
            .await
            .body["name"],
        "孙丽"
    );

    let owners_browser = Browser::signed_in(&app, "chen").await;
    let page = owners_browser.get(&format!("/leads/{id}")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("孙丽"));
}

async fn html_in_a_lead_is_shown_as_text(app: TestApp) {
    let rep = app.user("wu", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "<script>alert(1)</script>", "company": "<img src=x onerror=alert(2)>", "tags": ["<b>vip</b>"]}))
        .await;
    let id = lead["id"].as_i64().unwrap();
    let browser = Browser::signed_in(&app, "wu").await;
    let csrf = browser.csrf().await;
    let page = browser
        .post(
            &format!("/leads/{id}/activities"),
            &[
                ("csrf_token", &csrf),
                ("type", "note"),
                ("content", "<iframe src=\"//evil\"></iframe>"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    for path in [
        "/leads".to_owned(),
        format!("/leads/{id}"),
        format!("/leads/{id}/edit"),
        "/leads?q=<script>".to_owned(),
    ] {
        let page = browser.get(&path).await;
        page.assert_html(StatusCode::OK);
        // Our own scripts are loaded from our files; nothing typed ever becomes markup.
        assert_eq!(
            page.body.matches("<script").count(),
            page.body.matches("<script defer src=\"/assets/").count(),
            "{path}: {}",
            page.body
        );
        for raw in ["<script>", "<img", "<b>vip", "<iframe"] {
            assert!(
                !page.body.contains(raw),
                "{path} contains {raw}: {}",
                page.body
            );
        }
        assert!(
            shown_text(&page.body).contains("<script>alert(1)</script>"),
            "{path}: {}",
            page.body
        );
    }
    let page = shown_text(&browser.get(&format!("/leads/{id}")).await.body);
    assert!(page.contains("<iframe src=\"//evil\"></iframe>"), "{page}");
    assert!(page.contains("<b>vip</b>"), "{page}");
}

/// The text a browser shows for escaped HTML.
pub(crate) fn shown_text(html: &str) -> String {
    [
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#38;", "&"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(html.to_owned(), |text, (entity, c)| text.replace(entity, c))
}

async fn switching_to_english_changes_the_labels(app: TestApp) {
    let rep = app.user("sun", Role::Rep, None).await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "周杰", "source": "referral", "grade": "A"}),
        )
        .await;
    let id = lead["id"].as_i64().unwrap();
    let browser = Browser::signed_in(&app, "sun").await;

    let page = browser.get(&format!("/leads/{id}")).await;
    assert!(
        page.body.contains("lang=\"zh-CN\"")
            && page.body.contains("新建")
            && page.body.contains("客户推荐")
            && page.body.contains("记录跟进"),
        "{}",
        page.body
    );

    let back = format!("/leads/{id}");
    let page = browser
        .post(
            "/settings/locale",
            &[
                ("csrf_token", &page.csrf()),
                ("locale", "en"),
                ("back", &back),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), back);
    assert_eq!(app.get("/api/v1/me", &rep.token).await.body["locale"], "en");

    let page = browser.get(&format!("/leads/{id}")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("lang=\"en\""), "{}", page.body);
    for label in [
        "Log a follow-up",
        "Referral",
        "A: clear need",
        "Next follow-up",
        "Sign out",
    ] {
        assert!(page.body.contains(label), "{label}: {}", page.body);
    }
    assert!(
        !page.body.contains("记录跟进") && !page.body.contains("客户推荐"),
        "{}",
        page.body
    );
    let list = browser.get("/leads").await;
    for label in ["New lead", "Search", "Status", "Owner", "New"] {
        assert!(list.body.contains(label), "{label}: {}", list.body);
    }

    // A redirect back never leaves the site.
    let page = browser
        .post(
            "/settings/locale",
            &[
                ("csrf_token", &list.csrf()),
                ("locale", "zh"),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/leads");
    assert!(browser.get("/leads").await.body.contains("新建线索"));
    let page = browser
        .post(
            "/settings/locale",
            &[
                ("csrf_token", &list.csrf()),
                ("locale", "fr"),
                ("back", "/leads"),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
}

/// The part of a page from the element with `id` to the end of its section.
pub(crate) fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {html}"));
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// The unread count the top bar shows; `None` when it shows none.
fn unread_count(page: &Page) -> Option<String> {
    let start = page.body.find("id=\"unread-count\"")?;
    let text = &page.body[start..];
    let open = text.find('>')? + 1;
    let close = text.find("</span>")?;
    Some(text[open..close].to_owned())
}

async fn a_rep_claims_a_pool_lead_within_the_limits_and_returns_it(app: TestApp) {
    let rep = app.user("li", Role::Rep, None).await;
    app.user("outsider", Role::Rep, None).await;
    let pool = crate::pool::create_pool(
        &app,
        json!({"name": "华东公海", "member_user_ids": [rep.id], "max_held": 1, "cooldown_days": 7}),
    )
    .await;
    let first = crate::pool::pooled_lead(&app, pool, "王芳", "13812345678").await;
    let second =
        crate::pool::pooled_lead(&app, pool, "<script>alert(1)</script>", "13987654321").await;
    let owner_of = |id: i64| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/leads/{id}"), &app.admin_token)
                .await
                .body["owner_id"]
                .clone()
        }
    };

    let browser = Browser::signed_in(&app, "li").await;
    let page = browser.get("/leads").await;
    assert!(page.body.contains("href=\"/pool\""), "{}", page.body);
    let page = browser.get("/pool").await;
    page.assert_html(StatusCode::OK);
    let listed = section(&page.body, &format!("pool-{pool}"));
    assert!(
        listed.contains("华东公海") && listed.contains("王芳") && listed.contains("138****5678"),
        "{listed}"
    );
    assert!(!page.body.contains("13812345678"), "the phone is masked");
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(shown_text(&page.body).contains("<script>alert(1)</script>"));

    let path = format!("/pool/{pool}/claim");
    let forged = browser
        .post(
            &path,
            &[("csrf_token", "forged"), ("lead_id", &first.to_string())],
        )
        .await;
    forged.assert_html(StatusCode::FORBIDDEN);
    assert_eq!(owner_of(first).await, serde_json::Value::Null);

    let csrf = page.csrf();
    let claimed = browser
        .post(
            &path,
            &[("csrf_token", &csrf), ("lead_id", &first.to_string())],
        )
        .await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
    assert_eq!(claimed.location(), format!("/leads/{first}"));
    assert_eq!(owner_of(first).await, rep.id);
    let lead = browser.get(&format!("/leads/{first}")).await;
    lead.assert_html(StatusCode::OK);
    assert!(lead.body.contains("王芳"), "{}", lead.body);
    assert!(
        lead.body
            .contains(&format!("action=\"/leads/{first}/release\"")),
        "the owner may return it: {}",
        lead.body
    );
    assert!(!browser.get("/pool").await.body.contains("王芳"));

    // The pool lets a rep hold one of its leads.
    let refused = browser
        .post(
            &path,
            &[("csrf_token", &csrf), ("lead_id", &second.to_string())],
        )
        .await;
    refused.assert_html(StatusCode::CONFLICT);
    assert!(
        refused.body.contains("无法领取") && refused.body.contains("上限是 1 条"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("华东公海"),
        "the pool page: {}",
        refused.body
    );
    assert_eq!(owner_of(second).await, serde_json::Value::Null);

    let release = format!("/leads/{first}/release");
    let no_reason = browser
        .post(&release, &[("csrf_token", &csrf), ("reason", " ")])
        .await;
    no_reason.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.body.contains("请填写退回公海的原因"),
        "{}",
        no_reason.body
    );
    assert_eq!(owner_of(first).await, rep.id);
    let forged = browser
        .post(&release, &[("csrf_token", "forged"), ("reason", "没预算")])
        .await;
    forged.assert_html(StatusCode::FORBIDDEN);
    let returned = browser
        .post(
            &release,
            &[("csrf_token", &csrf), ("reason", "客户暂无预算")],
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.body);
    assert_eq!(owner_of(first).await, serde_json::Value::Null);
    let page = browser.get(returned.location()).await;
    assert!(
        page.body.contains("线索已退回公海") && page.body.contains("王芳"),
        "{}",
        page.body
    );

    // The cool-down: a rep does not claim at once what they returned.
    let again = browser
        .post(
            &path,
            &[("csrf_token", &csrf), ("lead_id", &first.to_string())],
        )
        .await;
    again.assert_html(StatusCode::CONFLICT);
    assert!(
        again.body.contains("是你在 7 天内退回公海的"),
        "{}",
        again.body
    );
    assert_eq!(owner_of(first).await, serde_json::Value::Null);

    let outsider = Browser::signed_in(&app, "outsider").await;
    let page = outsider.get("/pool").await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains("你还不是任何公海的成员") && !page.body.contains("王芳"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let page = outsider
        .post(
            &path,
            &[("csrf_token", &csrf), ("lead_id", &first.to_string())],
        )
        .await;
    page.assert_html(StatusCode::NOT_FOUND);
    assert_eq!(owner_of(first).await, serde_json::Value::Null);
}

/// Writes a notification to `user`, `minutes` after the test clock's now.
async fn notify(app: &TestApp, user: i64, message: &str, lead: Option<i64>, minutes: i64) {
    use xiansuo_app::channels::notifications::{notify, Kind, Notification};
    use xiansuo_core::custom_field::RecordType;
    let mut tx = app.db.begin().await.unwrap();
    let note = Notification {
        user_id: user,
        kind: Kind::LeadAssigned,
        record_type: lead.map(|_| RecordType::Lead),
        record_id: lead,
        message: message.to_owned(),
        now_ms: app.clock_now().timestamp_millis() + minutes * 60_000,
    };
    notify(&mut tx, &note).await.unwrap();
    tx.commit().await.unwrap();
}

async fn reading_notifications_lowers_the_unread_count_in_the_top_bar(app: TestApp) {
    let rep = app.user("zhou", Role::Rep, None).await;
    let other = app.user("wu", Role::Rep, None).await;
    let lead = app.lead(&rep.token, json!({"name": "周杰"})).await["id"]
        .as_i64()
        .unwrap();
    notify(&app, rep.id, "线索「周杰」已分配给你", Some(lead), 1).await;
    notify(&app, rep.id, "明天上午跟进 <b>周杰</b>", None, 2).await;
    notify(&app, other.id, "别人的通知", None, 3).await;
    let ids = |token: String| {
        let app = &app;
        async move {
            app.get("/api/v1/notifications", &token).await.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| (n["id"].as_i64().unwrap(), n["read_at"].is_null()))
                .collect::<Vec<_>>()
        }
    };
    let mine = ids(rep.token.clone()).await;
    let older = mine[1].0;
    let others = ids(other.token.clone()).await[0].0;

    let browser = Browser::signed_in(&app, "zhou").await;
    let page = browser.get("/leads").await;
    assert_eq!(unread_count(&page).as_deref(), Some("2"), "{}", page.body);
    let page = browser.get("/notifications").await;
    page.assert_html(StatusCode::OK);
    assert_eq!(unread_count(&page).as_deref(), Some("2"));
    let newer_at = page.body.find("明天上午跟进").expect("the newer one");
    let older_at = page.body.find("已分配给你").expect("the older one");
    assert!(newer_at < older_at, "newest first: {}", page.body);
    assert_eq!(page.body.matches("class=\"badge unread-badge\"").count(), 2);
    assert!(!page.body.contains("<b>"), "{}", page.body);
    assert!(!page.body.contains("别人的通知"), "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"/leads/{lead}\"")),
        "{}",
        page.body
    );
    let csrf = page.csrf();

    let read = browser
        .post(
            &format!("/notifications/{older}/read"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(read.status, StatusCode::SEE_OTHER, "{}", read.body);
    assert_eq!(read.location(), "/notifications");
    let page = browser.get("/notifications").await;
    assert_eq!(unread_count(&page).as_deref(), Some("1"), "{}", page.body);
    assert!(page.body.contains(&format!(
        "class=\"notification\" id=\"notification-{older}\""
    )));

    let page = browser
        .post(
            &format!("/notifications/{others}/read"),
            &[("csrf_token", &csrf)],
        )
        .await;
    page.assert_html(StatusCode::NOT_FOUND);
    assert_eq!(ids(other.token.clone()).await, vec![(others, true)]);

    let forged = browser
        .post("/notifications/read-all", &[("csrf_token", "forged")])
        .await;
    forged.assert_html(StatusCode::FORBIDDEN);
    assert_eq!(
        unread_count(&browser.get("/leads").await).as_deref(),
        Some("1")
    );
    let all = browser
        .post("/notifications/read-all", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(all.status, StatusCode::SEE_OTHER, "{}", all.body);
    let page = browser.get("/leads").await;
    assert_eq!(unread_count(&page), None, "{}", page.body);
    assert!(ids(rep.token.clone())
        .await
        .iter()
        .all(|(_, unread)| !unread));
    assert!(browser
        .get("/notifications")
        .await
        .body
        .contains("已分配给你"));
}

async fn a_deal_moves_to_another_column_of_the_board_and_is_won_or_lost(app: TestApp) {
    let rep = app.user("gao", Role::Rep, None).await;
    let other = app.user("he", Role::Rep, None).await;
    let deal = |token: String, body: serde_json::Value| {
        let app = &app;
        async move {
            let reply = app.post("/api/v1/opportunities", &token, body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.body["id"].as_i64().unwrap()
        }
    };
    let cloud = deal(
        rep.token.clone(),
        json!({"name": "云启 CRM 项目", "amount": 120000, "stage": "met"}),
    )
    .await;
    let erp = deal(
        rep.token.clone(),
        json!({"name": "星河 ERP", "amount": 30000.5, "stage": "proposal"}),
    )
    .await;
    deal(
        rep.token.clone(),
        json!({"name": "<script>x</script> 扩容", "amount": 5000, "stage": "needs"}),
    )
    .await;
    let secret = deal(
        other.token.clone(),
        json!({"name": "秘密交易", "amount": 999, "stage": "met"}),
    )
    .await;
    let stage_of = |id: i64, token: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/opportunities/{id}"), &token)
                .await
                .body
        }
    };

    let browser = Browser::signed_in(&app, "gao").await;
    let page = browser.get("/board").await;
    page.assert_html(StatusCode::OK);
    let met = section(&page.body, "stage-met");
    assert!(
        met.contains("云启 CRM 项目")
            && met.contains("column-count\">1<")
            && met.contains("¥120,000.00"),
        "{met}"
    );
    assert!(!page.body.contains("秘密交易"), "{}", page.body);
    assert!(
        !page.body.contains("<script>"),
        "no inline script: {}",
        page.body
    );
    let csrf = page.csrf();

    let path = format!("/board/{cloud}/move");
    let forged = browser
        .post(&path, &[("csrf_token", "forged"), ("stage", "proposal")])
        .await;
    forged.assert_html(StatusCode::FORBIDDEN);
    assert_eq!(stage_of(cloud, rep.token.clone()).await["stage"], "met");

    let moved = browser
        .post(&path, &[("csrf_token", &csrf), ("stage", "proposal")])
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.location(), format!("/board#deal-{cloud}"));
    let page = browser.get("/board").await;
    let proposal = section(&page.body, "stage-proposal");
    assert!(
        proposal.contains("云启 CRM 项目")
            && proposal.contains("星河 ERP")
            && proposal.contains("column-count\">2<")
            && proposal.contains("¥150,000.50"),
        "{proposal}"
    );
    let met = section(&page.body, "stage-met");
    assert!(
        !met.contains("云启") && met.contains("column-count\">0<"),
        "{met}"
    );
    let after = stage_of(cloud, rep.token.clone()).await;
    assert_eq!(
        (after["stage"].as_str(), after["probability"].as_i64()),
        (Some("proposal"), Some(60))
    );

    let close = format!("/board/{erp}/close");
    let no_reason = browser
        .post(
            &close,
            &[("csrf_token", &csrf), ("result", "lost"), ("reason", "")],
        )
        .await;
    no_reason.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("原因"), "{}", no_reason.body);
    assert_eq!(stage_of(erp, rep.token.clone()).await["result"], "open");
    let lost = browser
        .post(
            &close,
            &[
                ("csrf_token", &csrf),
                ("result", "lost"),
                ("reason", "预算取消"),
            ],
        )
        .await;
    assert_eq!(lost.status, StatusCode::SEE_OTHER, "{}", lost.body);
    let won = browser
        .post(
            &format!("/board/{cloud}/close"),
            &[("csrf_token", &csrf), ("result", "won"), ("reason", "")],
        )
        .await;
    assert_eq!(won.status, StatusCode::SEE_OTHER, "{}", won.body);
    let page = browser.get("/board").await;
    let lost_column = section(&page.body, "stage-lost");
    assert!(
        lost_column.contains("星河 ERP") && lost_column.contains("输单: 预算取消"),
        "{lost_column}"
    );
    assert!(section(&page.body, "stage-paid").contains("云启 CRM 项目"));
    let erp_now = stage_of(erp, rep.token.clone()).await;
    assert_eq!(erp_now["result"], "lost");
    assert_eq!(erp_now["close_reason"], "预算取消");
    assert_eq!(stage_of(cloud, rep.token.clone()).await["result"], "won");

    // Another rep's deal cannot be moved from this board.
    let page = browser
        .post(
            &format!("/board/{secret}/move"),
            &[("csrf_token", &csrf), ("stage", "proposal")],
        )
        .await;
    page.assert_html(StatusCode::NOT_FOUND);
    assert_eq!(stage_of(secret, other.token.clone()).await["stage"], "met");
}

/// Follows an import's page until it has finished.
async fn finished_import(browser: &Browser, path: &str) -> Page {
    let started = std::time::Instant::now();
    loop {
        let page = browser.get(path).await;
        page.assert_html(StatusCode::OK);
        if page.body.contains("class=\"badge state-finished\"") {
            assert!(!page.body.contains("http-equiv=\"refresh\""));
            return page;
        }
        assert!(
            page.body.contains("class=\"badge state-running\"")
                && page
                    .body
                    .contains("<meta http-equiv=\"refresh\" content=\"2\">"),
            "running, refreshing itself: {}",
            page.body
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the import did not finish: {}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The id in the form that starts an import.
fn import_id(page: &Page) -> i64 {
    let marker = "action=\"/imports/";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("a start form in {}", page.body))
        + marker.len();
    let end = page.body[start..].find('/').unwrap();
    page.body[start..start + end].parse().unwrap()
}

/// The text of the element with `id`.
fn text_by_id(page: &Page, id: &str) -> String {
    let part = section(&page.body, id);
    let open = part.find('>').unwrap() + 1;
    let close = part.find('<').unwrap();
    part[open..close].to_owned()
}

async fn a_csv_is_uploaded_mapped_imported_and_its_row_report_downloaded(app: TestApp) {
    let rep = app.user("ma", Role::Rep, None).await;
    app.user("niu", Role::Rep, None).await;
    let browser = Browser::signed_in(&app, "ma").await;
    let form = browser.get("/imports/new").await;
    form.assert_html(StatusCode::OK);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let csrf = form.csrf();
    let csv = "姓名,手机,公司,备注\n王芳,13812345678,云启科技,展会认识\n李雷,12,星河公司,号码错\n韩梅梅,13900001111,蓝海,老客户\n";

    let forged = browser
        .upload("forged", "名单.csv", csv.as_bytes().to_vec())
        .await;
    forged.assert_html(StatusCode::FORBIDDEN);
    let listed = app.get("/api/v1/imports", &rep.token).await;
    assert_eq!(listed.body["items"], json!([]), "nothing stored");

    let page = browser
        .upload(&csrf, "名单.csv", csv.as_bytes().to_vec())
        .await;
    page.assert_html(StatusCode::OK);
    let id = import_id(&page);
    let remark = &page.body[page
        .body
        .find("name=\"col3\"")
        .expect("a select per column")..];
    let remark = &remark[..remark.find("</select>").unwrap()];
    assert!(
        remark.contains("value=\"description\" selected"),
        "备注 goes to the description: {remark}"
    );
    assert!(
        page.body.contains("王芳") && page.body.contains("class=\"badge result-warning\""),
        "the preview shows the rows and the bad phone: {}",
        page.body
    );

    let path = format!("/imports/{id}");
    let niu = Browser::signed_in(&app, "niu").await;
    niu.get(&path).await.assert_html(StatusCode::NOT_FOUND);
    let niu_csrf = niu.csrf().await;
    niu.post(&format!("{path}/start"), &[("csrf_token", &niu_csrf)])
        .await
        .assert_html(StatusCode::NOT_FOUND);
    assert!(!niu.get("/imports").await.body.contains("名单.csv"));
    browser
        .post(&format!("{path}/start"), &[("csrf_token", "forged")])
        .await
        .assert_html(StatusCode::FORBIDDEN);

    // 备注 is not imported.
    let started = browser
        .post(
            &format!("{path}/start"),
            &[
                ("csrf_token", &csrf),
                ("col0", "name"),
                ("col1", "phone"),
                ("col2", "company"),
                ("col3", ""),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(started.location(), path);
    let page = finished_import(&browser, &path).await;
    assert_eq!(text_by_id(&page, "count-imported"), "3");
    assert_eq!(text_by_id(&page, "count-warnings"), "1");
    let report = format!("/imports/{id}/errors.csv");
    assert!(
        page.body.contains(&format!("href=\"{report}\"")),
        "{}",
        page.body
    );
    let csv = browser.get(&report).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(
        csv.body.contains("李雷") || csv.body.contains("12"),
        "{}",
        csv.body
    );
    assert!(
        csv.body.starts_with("\u{FEFF}行号,结果,字段,原因,")
            && csv.body.contains("导入（数据有提醒）"),
        "the report speaks the user's language: {}",
        csv.body
    );
    let leads = app.get("/api/v1/leads?q=王芳", &rep.token).await;
    assert_eq!(leads.body["items"][0]["company"], "云启科技");
    assert_eq!(
        leads.body["items"][0]["description"],
        serde_json::Value::Null
    );
    let list = browser.get("/imports").await;
    assert!(
        list.body.contains("名单.csv") && list.body.contains("已完成"),
        "{}",
        list.body
    );

    // A GBK file whose name column has a header no mapping knows: the person names it.
    let (gbk, _, _) = encoding_rs::GBK.encode("客户,电话\n张伟,13700001111\n");
    let page = browser.upload(&csrf, "gbk.csv", gbk.into_owned()).await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains("id=\"import-error\"") && page.body.contains("客户"),
        "{}",
        page.body
    );
    let id = import_id(&page);
    let path = format!("/imports/{id}");
    let refused = browser
        .post(
            &format!("{path}/start"),
            &[("csrf_token", &csrf), ("col0", "")],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let started = browser
        .post(
            &format!("{path}/start"),
            &[("csrf_token", &csrf), ("col0", "name"), ("col1", "phone")],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = finished_import(&browser, &path).await;
    assert_eq!(text_by_id(&page, "count-imported"), "1");
    let leads = app.get("/api/v1/leads?q=张伟", &rep.token).await;
    assert_eq!(leads.body["items"][0]["name"], "张伟");
}

/// The `<select>` named `name` on a page, up to its end.
fn select<'a>(page: &'a Page, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("a select {name} in {}", page.body));
    let end = page.body[start..].find("</select>").unwrap() + start;
    &page.body[start..end]
}

async fn the_wizard_gives_the_records_to_the_chosen_owner_within_the_users_scope(app: TestApp) {
    let team = app.team("华东", None).await;
    let other_team = app.team("华南", None).await;
    let manager = app.user("guan", Role::Manager, Some(team)).await;
    let ma = app.user("ma", Role::Rep, Some(team)).await;
    let niu = app.user("niu", Role::Rep, Some(other_team)).await;

    // A manager gives leads to a rep of their team; the assignment rules are the default.
    let browser = Browser::signed_in(&app, "guan").await;
    let csrf = browser.get("/imports/new").await.csrf();
    let csv = "姓名,手机,公司\n王芳,13812345678,云启科技\n李雷,13900001111,星河公司\n";
    let page = browser
        .upload(&csrf, "名单.csv", csv.as_bytes().to_vec())
        .await;
    page.assert_html(StatusCode::OK);
    let owners = select(&page, "owner_id");
    assert!(
        owners.contains("<option value=\"\" selected>按分配规则</option>")
            && owners.contains(&format!("value=\"{}\">我 (guan)", manager.id))
            && owners.contains(&format!("value=\"{}\">ma<", ma.id))
            && !owners.contains(&format!("value=\"{}\"", niu.id)),
        "the rules, the manager, their team and no one else: {owners}"
    );
    let dedup = select(&page, "dedup");
    assert!(
        dedup.contains("value=\"skip\" selected>跳过，不导入")
            && dedup.contains("value=\"merge\">合并到已有线索"),
        "{dedup}"
    );
    assert!(select(&page, "dedup_probable").contains("value=\"\" selected>按导入渠道的查重设置"));
    let id = import_id(&page);
    let path = format!("/imports/{id}");
    let ma_id = ma.id.to_string();
    let started = browser
        .post(
            &format!("{path}/start"),
            &[
                ("csrf_token", &csrf),
                ("col0", "name"),
                ("col1", "phone"),
                ("col2", "company"),
                ("owner_id", &ma_id),
                ("dedup", "warn"),
                ("dedup_probable", "skip"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = finished_import(&browser, &path).await;
    assert_eq!(text_by_id(&page, "count-imported"), "2");
    let options = &app
        .get(&format!("/api/v1/imports/{id}"), &manager.token)
        .await
        .body["options"];
    assert_eq!(
        (&options["dedup"], &options["dedup_probable"]),
        (&json!("warn"), &json!("skip")),
        "{options}"
    );
    let leads = app.get("/api/v1/leads", &ma.token).await;
    let items = leads.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", leads.body);
    assert!(
        items.iter().all(|l| l["owner_id"] == ma.id),
        "{}",
        leads.body
    );

    // A rep imports accounts: they own them by default and cannot give them to another team.
    let rep = Browser::signed_in(&app, "ma").await;
    let csrf = rep.get("/imports/new").await.csrf();
    let csv = "客户名称,所在城市\n恒远科技,上海\n";
    let page = rep
        .upload_kind(&csrf, "accounts", "客户.csv", csv.as_bytes().to_vec())
        .await;
    page.assert_html(StatusCode::OK);
    let owners = select(&page, "owner_id");
    assert!(
        owners.contains(&format!("value=\"{}\" selected>我 (ma)", ma.id))
            && !owners.contains("按分配规则")
            && !owners.contains(&format!("value=\"{}\"", niu.id)),
        "{owners}"
    );
    let path = format!("/imports/{}", import_id(&page));
    let niu_id = niu.id.to_string();
    let refused = rep
        .post(
            &format!("{path}/start"),
            &[
                ("csrf_token", &csrf),
                ("col0", "name"),
                ("col1", "city"),
                ("owner_id", &niu_id),
            ],
        )
        .await;
    refused.assert_html(StatusCode::FORBIDDEN);
    let error = section(&refused.body, "owner-error");
    assert!(error.contains("只能选择你数据范围内的在职用户"), "{error}");
    assert!(
        select(&refused, "owner_id").contains(&format!("value=\"{}\" selected>我 (ma)", ma.id)),
        "the refused owner is not offered"
    );
    let accounts = app.get("/api/v1/accounts?q=恒远", &app.admin_token).await;
    assert_eq!(accounts.body["items"], json!([]), "nothing imported");
    let started = rep
        .post(
            &format!("{path}/start"),
            &[
                ("csrf_token", &csrf),
                ("col0", "name"),
                ("col1", "city"),
                ("owner_id", &ma_id),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = finished_import(&rep, &path).await;
    assert_eq!(text_by_id(&page, "count-imported"), "1");
    let accounts = app.get("/api/v1/accounts?q=恒远", &app.admin_token).await;
    assert_eq!(accounts.body["items"][0]["owner_id"], ma.id);
}

/// The text of one bar of a dashboard chart (`source-event`, `step-new`, …).
fn bar<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {html}"));
    let end = html[start..].find("</li>").expect("the end of the bar") + start;
    &html[start..end]
}

/// The count a dashboard bar shows.
fn bar_count(html: &str, id: &str) -> String {
    let row = bar(html, id);
    let start = row.find("class=\"bar-count\">").expect("a count") + "class=\"bar-count\">".len();
    let end = row[start..].find('<').expect("the end of the count") + start;
    row[start..end].to_owned()
}

/// The address of a link on a page, found by how it starts.
fn link(page: &Page, starts_with: &str) -> String {
    let marker = format!("href=\"{starts_with}");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("a link to {starts_with} in {}", page.body))
        + "href=\"".len();
    let end = page.body[start..].find('"').expect("the end of the link") + start;
    shown_text(&page.body[start..end])
}

async fn the_dashboard_shows_the_reports_of_the_users_scope(app: TestApp) {
    let wu = app.user("wu", Role::Rep, None).await;
    let zhou = app.user("zhou", Role::Rep, None).await;
    let fair = app
        .lead(&wu.token, json!({"name": "展会客户一", "source": "event"}))
        .await;
    app.lead(&wu.token, json!({"name": "展会客户二", "source": "event"}))
        .await;
    app.lead(&wu.token, json!({"name": "推荐客户", "source": "referral"}))
        .await;
    app.lead(
        &zhou.token,
        json!({"name": "周的展会客户", "source": "event"}),
    )
    .await;
    let fair = fair["id"].as_i64().unwrap();
    let logged = app
        .post(
            &format!("/api/v1/leads/{fair}/activities"),
            &wu.token,
            json!({"type": "call", "outcome": "call_back", "content": "已电话联系"}),
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    let converted = app
        .post(
            &format!("/api/v1/leads/{fair}/convert"),
            &wu.token,
            json!({"create_opportunity": false}),
        )
        .await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    let month = app.clock_now().format("%Y-%m").to_string();
    let target = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/reports/targets",
            &app.admin_token,
            Some(json!({"user_id": wu.id, "metric": "leads", "month": month, "value": 12})),
        )
        .await;
    assert_eq!(target.status, StatusCode::OK, "{}", target.body);

    // The admin sees everyone's leads.
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/dashboard").await;
    page.assert_html(StatusCode::OK);
    let dashboard_link = page
        .body
        .find("href=\"/dashboard\"")
        .expect("a dashboard link");
    let leads_link = page.body.find("<a href=\"/leads\">").expect("a leads link");
    assert!(dashboard_link < leads_link, "the dashboard comes first");
    assert!(page.body.contains("id=\"range-from\"") && page.body.contains("2026-10-04"));
    assert!(page.body.contains("value=\"2026-11-02\""), "{}", page.body);
    assert!(page.body.contains("id=\"total-leads\">4<"), "{}", page.body);
    assert_eq!(bar_count(&page.body, "source-event"), "3");
    let event = bar(&page.body, "source-event");
    assert!(
        event.contains("展会活动") && event.contains("75.0%") && event.contains("33.3%"),
        "three of four leads, one of three converted: {event}"
    );
    assert!(event.contains("width=\"75.0\""), "{event}");
    assert_eq!(bar_count(&page.body, "source-referral"), "1");
    assert_eq!(bar_count(&page.body, "step-new"), "4");
    assert_eq!(bar_count(&page.body, "step-working"), "1");
    assert_eq!(bar_count(&page.body, "step-converted"), "1");
    assert_eq!(bar_count(&page.body, "step-won"), "0");
    assert!(bar(&page.body, "step-converted").contains("25.0%"));
    let speed = section(&page.body, "speed");
    assert!(
        speed.contains("wu") && speed.contains("zhou") && speed.contains("100.0%"),
        "{speed}"
    );
    let targets = section(&page.body, "targets");
    assert!(
        targets.contains("wu") && targets.contains("新线索") && targets.contains("25.0%"),
        "three of twelve leads: {targets}"
    );

    // The CSV links work with the session cookie alone.
    let csv = admin
        .get(&link(&page, "/api/v1/reports/leads?group_by=source"))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(csv.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.body.contains("event,event,3,1,33.3"), "{}", csv.body);
    let funnel = admin.get(&link(&page, "/api/v1/reports/funnel?")).await;
    assert!(funnel.body.contains("new,4,"), "{}", funnel.body);
    // The other reports are one link away, on the reports page, each with its CSV.
    admin
        .get(&link(&page, "/reports?"))
        .await
        .assert_html(StatusCode::OK);
    for report in [
        "speed-to-lead",
        "targets",
        "activities",
        "sales-cycle",
        "channels",
    ] {
        let tab = admin.get(&format!("/reports?report={report}")).await;
        tab.assert_html(StatusCode::OK);
        let csv = admin.get(&link(&tab, "/reports/download?")).await;
        assert_eq!(csv.status, StatusCode::OK, "{report}: {}", csv.body);
        assert!(csv.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
    }

    // A rep sees only their own numbers.
    let rep = Browser::signed_in(&app, "wu").await;
    let page = rep.get("/dashboard").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("id=\"total-leads\">3<"), "{}", page.body);
    assert_eq!(bar_count(&page.body, "source-event"), "2");
    assert!(bar(&page.body, "source-event").contains("50.0%"));
    assert_eq!(bar_count(&page.body, "step-new"), "3");
    assert!(!page.body.contains("zhou"), "{}", page.body);
    assert!(section(&page.body, "targets").contains("25.0%"));
    let csv = rep
        .get(&link(&page, "/api/v1/reports/leads?group_by=source"))
        .await;
    assert!(csv.body.contains("event,event,2,1,50.0"), "{}", csv.body);
    let other = Browser::signed_in(&app, "zhou").await;
    let page = other.get("/dashboard").await;
    assert!(page.body.contains("id=\"total-leads\">1<"), "{}", page.body);
    assert!(!page.body.contains("id=\"targets\""), "{}", page.body);
    assert!(
        !page.body.contains("id=\"source-referral\""),
        "{}",
        page.body
    );

    // A range before the leads were created shows none.
    let page = admin.get("/dashboard?from=2026-09-01&to=2026-09-30").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("id=\"total-leads\">0<"), "{}", page.body);
    assert!(page.body.contains("这段时间没有数据。"), "{}", page.body);
}

async fn the_dashboard_speaks_english_and_refuses_a_bad_range_on_the_page(app: TestApp) {
    let rep = app.user("sun", Role::Rep, None).await;
    app.lead(&rep.token, json!({"name": "孙的客户", "source": "event"}))
        .await;
    let browser = Browser::signed_in(&app, "sun").await;

    let page = browser
        .get("/dashboard?from=2026-11-10&to=2026-11-01")
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let error = section(&page.body, "dashboard-error");
    assert!(
        error.contains("结束日期") && error.contains("不能早于开始日期"),
        "{error}"
    );
    assert!(
        page.body.contains("value=\"2026-11-10\""),
        "the range stays in the form"
    );
    assert!(!page.body.contains("id=\"funnel\""), "{}", page.body);
    let page = browser
        .get("/dashboard?from=2026-10-01&from=2026-10-20&other=1")
        .await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains("value=\"2026-10-20\""),
        "the last from counts"
    );
    let page = browser.get("/dashboard?from=yesterday").await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        section(&page.body, "dashboard-error").contains("开始日期"),
        "{}",
        page.body
    );

    let csrf = browser.csrf().await;
    let switched = browser
        .post(
            "/settings/locale",
            &[
                ("csrf_token", &csrf),
                ("locale", "en"),
                ("back", "/dashboard"),
            ],
        )
        .await;
    assert_eq!(switched.location(), "/dashboard");
    let page = browser.get("/dashboard").await;
    page.assert_html(StatusCode::OK);
    for label in [
        "Dashboard",
        "Leads by source",
        "Funnel",
        "Speed to lead",
        "Download CSV",
        "Event",
        "Conversion",
        "New",
        "Converted",
        "Won",
    ] {
        assert!(page.body.contains(label), "{label}: {}", page.body);
    }
    for chinese in ["仪表盘", "线索来源", "转化漏斗", "展会活动", "下载"] {
        assert!(!page.body.contains(chinese), "{chinese}: {}", page.body);
    }
    let page = browser
        .get("/dashboard?from=2026-11-10&to=2026-11-01")
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        section(&page.body, "dashboard-error").contains("To: must be after from"),
        "{}",
        page.body
    );
}

async fn the_new_pages_speak_english(app: TestApp) {
    app.user("lin", Role::Rep, None).await;
    let browser = Browser::signed_in(&app, "lin").await;
    let csrf = browser.csrf().await;
    let page = browser
        .post(
            "/settings/locale",
            &[("csrf_token", &csrf), ("locale", "en"), ("back", "/pool")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    for (path, labels) in [
        (
            "/pool",
            &[
                "Public pool",
                "Board",
                "Imports",
                "Notifications",
                "You do not belong to any pool.",
            ][..],
        ),
        (
            "/board",
            &["Pipeline board", "Met", "Proposal", "No deals"][..],
        ),
        ("/imports", &["Import data", "No imports yet."][..]),
        (
            "/imports/new",
            &["File (CSV or XLSX)", "Upload and preview"][..],
        ),
        ("/notifications", &["No notifications."][..]),
    ] {
        let page = browser.get(path).await;
        page.assert_html(StatusCode::OK);
        assert!(page.body.contains("lang=\"en\""), "{path}");
        for label in labels {
            assert!(page.body.contains(label), "{path}: {label}: {}", page.body);
        }
        for chinese in ["公海", "看板", "导入", "通知", "见到客户"] {
            assert!(
                !page.body.contains(chinese),
                "{path}: {chinese}: {}",
                page.body
            );
        }
    }
}

pub(crate) mod browser {
    //! One real-browser run: ChromeDriver and headless Chromium, started by the test.

    use crate::support::{Backend, TestApp};
    use fantoccini::{Client, ClientBuilder, Locator};
    use serde_json::{json, Value};
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};
    use xiansuo_core::role::Role;

    /// The ChromeDriver process; killed when the test ends, however it ends.
    pub(crate) struct ChromeDriver {
        child: Child,
        url: String,
    }

    impl Drop for ChromeDriver {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// `CHROMEDRIVER` if set, else `chromedriver` on the PATH (Debian's chromium-driver puts it
    /// in /usr/bin).
    pub(crate) fn find_chromedriver() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("CHROMEDRIVER") {
            return Some(PathBuf::from(path));
        }
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .chain([PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("chromedriver"))
            .find(|path| path.is_file())
    }

    /// `CHROMIUM` if set, else Debian's /usr/bin/chromium; `None` lets ChromeDriver look itself.
    fn find_chromium() -> Option<String> {
        std::env::var("CHROMIUM").ok().or_else(|| {
            std::path::Path::new("/usr/bin/chromium")
                .is_file()
                .then(|| "/usr/bin/chromium".to_owned())
        })
    }

    pub(crate) async fn start_chromedriver(path: PathBuf) -> ChromeDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", path.display()));
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            let status = reqwest::get(format!("{}/status", driver.url)).await;
            if status.is_ok_and(|r| r.status().is_success()) {
                return driver;
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// ChromeDriver's path; `None` (said on stderr) when it is missing outside CI, where the
    /// browser tests are skipped.
    pub(crate) fn chromedriver_or_skip() -> Option<PathBuf> {
        let found = find_chromedriver();
        if found.is_none() {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("chromedriver is required in CI: install chromium and chromium-driver");
            }
            eprintln!(
                "skipping: chromedriver not found (apt-get install chromium chromium-driver)"
            );
        }
        found
    }

    /// Runs `scenario` with a fresh headless Chromium session (1280×1000) on the app at
    /// `base`. The scenario runs as a task of its own so that a failed assertion still ends the
    /// browser session before the test fails.
    pub(crate) async fn in_chromium<F>(
        chromedriver: PathBuf,
        base: String,
        scenario: impl FnOnce(Client, String) -> F,
    ) where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let driver = start_chromedriver(chromedriver).await;
        let profile = tempfile::tempdir().expect("a profile directory");
        let client = chromium(&driver, profile.path()).await;

        // The scenario runs as a task of its own so that a failed assertion still ends the
        // browser session before the test fails.
        let outcome = tokio::spawn(scenario(client.clone(), base)).await;
        let _ = client.close().await;
        drop(driver);
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    /// A headless Chromium session through `driver`, with its profile in `profile`.
    pub(crate) async fn chromium(driver: &ChromeDriver, profile: &std::path::Path) -> Client {
        let mut options = json!({
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        });
        if let Some(binary) = find_chromium() {
            options["binary"] = Value::from(binary);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_person_works_a_lead_in_headless_chromium() {
        let Some(chromedriver) = chromedriver_or_skip() else {
            return;
        };
        let app = TestApp::start(Backend::Sqlite)
            .await
            .expect("a SQLite test app");
        let rep = app.user("liu", Role::Rep, None).await;
        app.lead(
            &rep.token,
            json!({"name": "赵敏", "company": "明教贸易有限公司"}),
        )
        .await;
        in_chromium(chromedriver, app.base.clone(), scenario).await;
    }

    pub(crate) async fn text_of(client: &Client, css: &str) -> String {
        client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Saves a screenshot when `XIANSUO_SCREENSHOTS` names a directory, to look at the pages.
    pub(crate) async fn screenshot(client: &Client, name: &str) {
        if let Some(dir) = std::env::var_os("XIANSUO_SCREENSHOTS") {
            let png = client.screenshot().await.expect("a screenshot");
            std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png)
                .expect("saving a screenshot");
        }
    }

    async fn scenario(client: Client, base: String) {
        let wait = || client.wait().at_most(Duration::from_secs(10));

        client.goto(&format!("{base}/leads")).await.unwrap();
        let username = wait()
            .for_element(Locator::Css("input[name=username]"))
            .await
            .expect("the sign-in page");
        screenshot(&client, "sign-in").await;
        username.send_keys("liu").await.unwrap();
        client
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys("password123")
            .await
            .unwrap();
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();

        wait()
            .for_element(Locator::Id("new-lead"))
            .await
            .expect("the lead list")
            .click()
            .await
            .unwrap();
        wait()
            .for_element(Locator::Id("field-name"))
            .await
            .unwrap()
            .send_keys("陈晓明")
            .await
            .unwrap();
        client
            .find(Locator::Id("field-company"))
            .await
            .unwrap()
            .send_keys("杭州云启科技有限公司")
            .await
            .unwrap();
        client
            .find(Locator::Id("field-title"))
            .await
            .unwrap()
            .send_keys("采购经理")
            .await
            .unwrap();
        client
            .find(Locator::Id("field-phone"))
            .await
            .unwrap()
            .send_keys("13812345678")
            .await
            .unwrap();
        client
            .find(Locator::Id("field-source"))
            .await
            .unwrap()
            .select_by_value("event")
            .await
            .unwrap();
        client
            .find(Locator::Id("field-grade"))
            .await
            .unwrap()
            .select_by_value("B")
            .await
            .unwrap();
        client
            .find(Locator::Id("field-tags"))
            .await
            .unwrap()
            .send_keys("展会，重点客户")
            .await
            .unwrap();
        screenshot(&client, "new-lead").await;
        client
            .find(Locator::Css("form.lead-form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();

        let title = wait()
            .for_element(Locator::Css(".lead-title"))
            .await
            .expect("the new lead's page");
        assert_eq!(title.text().await.unwrap(), "陈晓明");
        let lead_url = client.current_url().await.unwrap();

        client.goto(&format!("{base}/leads")).await.unwrap();
        let names: Vec<String> = {
            let mut names = Vec::new();
            for link in client
                .find_all(Locator::Css("td.lead-name a"))
                .await
                .unwrap()
            {
                names.push(link.text().await.unwrap());
            }
            names
        };
        assert!(
            names.contains(&"陈晓明".to_owned()) && names.contains(&"赵敏".to_owned()),
            "{names:?}"
        );
        screenshot(&client, "list-desktop").await;

        let search = client.find(Locator::Css("input[name=q]")).await.unwrap();
        search.send_keys("晓明").await.unwrap();
        client
            .find(Locator::Css(".search button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |address| address.starts_with("/leads?q=")).await;
        let rows = client
            .find_all(Locator::Css("td.lead-name a"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].text().await.unwrap(), "陈晓明");
        rows[0].click().await.unwrap();

        wait()
            .for_element(Locator::Id("follow-up-type"))
            .await
            .unwrap()
            .select_by_value("visit")
            .await
            .unwrap();
        client
            .find(Locator::Id("follow-up-outcome"))
            .await
            .unwrap()
            .select_by_value("visit_requested")
            .await
            .unwrap();
        client
            .find(Locator::Id("follow-up-content"))
            .await
            .unwrap()
            .send_keys("上门拜访，客户要求下周报价")
            .await
            .unwrap();
        // Typing into a date-time field depends on the browser's locale; setting it does not.
        client
            .execute(
                "document.getElementById('follow-up-next').value = '2026-11-09T10:00';",
                Vec::new(),
            )
            .await
            .unwrap();
        client
            .find(Locator::Css(".follow-up button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();

        let entry = wait()
            .for_element(Locator::Css(".entry.activity"))
            .await
            .expect("the follow-up on the timeline");
        let text = entry.text().await.unwrap();
        for expected in [
            "拜访",
            "要求上门",
            "上门拜访，客户要求下周报价",
            "2026-11-09 10:00",
            "liu",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        assert_eq!(
            text_of(&client, ".lead-head .badge").await,
            "跟进中",
            "the first follow-up moves a new lead to working"
        );
        assert!(
            text_of(&client, "#timeline").await.contains("新建"),
            "the history shows the status change"
        );
        client.goto(lead_url.as_str()).await.unwrap();
        assert!(text_of(&client, "#timeline")
            .await
            .contains("上门拜访，客户要求下周报价"));
        screenshot(&client, "lead-desktop").await;

        client.set_window_size(390, 844).await.unwrap();
        client.goto(&format!("{base}/leads")).await.unwrap();
        let (scroll, inner) = widths(&client).await;
        assert!(inner <= 390, "the window is phone-sized: {inner}");
        assert!(
            scroll <= inner,
            "nothing overflows sideways on a phone: {scroll} > {inner}"
        );
        assert!(
            !client
                .find(Locator::Css(".leads thead"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap(),
            "rows are cards, without a header"
        );
        assert!(client
            .find(Locator::Id("new-lead"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        let card = client.find(Locator::Css(".leads tbody tr")).await.unwrap();
        let (_, _, card_width, _) = card.rectangle().await.unwrap();
        assert!(
            card_width <= inner as f64,
            "a card fits the screen: {card_width}"
        );
        assert!(client
            .find(Locator::Css("input[name=q]"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "list-phone").await;

        // Every page is in the navigation on a phone too, and the board shows one column at a
        // time, the next one a swipe away.
        open_from_nav(&client, "/board").await;
        let (scroll, _) = widths(&client).await;
        assert!(
            scroll <= inner,
            "the board does not overflow sideways on a phone: {scroll} > {inner}"
        );
        let columns = client.find_all(Locator::Css(".column")).await.unwrap();
        let (first_left, first_top, first_width, _) = columns[0].rectangle().await.unwrap();
        let (second_left, second_top, _, _) = columns[1].rectangle().await.unwrap();
        assert!(
            second_top == first_top
                && second_left >= first_left + first_width
                && first_width <= inner as f64
                && first_width > inner as f64 * 0.7,
            "one column fills the screen, the next beside it"
        );
        screenshot(&client, "board-phone").await;

        // The dashboard fits a 375 px screen, its bars drawn and the range form usable.
        client.set_window_size(375, 812).await.unwrap();
        open_from_nav(&client, "/dashboard").await;
        let (scroll, narrow) = widths(&client).await;
        assert!(
            narrow <= 375 && scroll <= narrow,
            "the dashboard does not overflow sideways on a phone: {scroll} > {narrow}"
        );
        let (_, _, filled, _) = client
            .find(Locator::Css("#by-source .bar-fill"))
            .await
            .unwrap()
            .rectangle()
            .await
            .unwrap();
        let (_, _, track, _) = client
            .find(Locator::Css("#by-source .bar-track"))
            .await
            .unwrap()
            .rectangle()
            .await
            .unwrap();
        assert!(
            filled > 0.0 && filled <= track + 0.5 && track <= narrow as f64,
            "a source's bar is its share of the track: {filled} of {track}"
        );
        assert!(client
            .find(Locator::Id("range-to"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "dashboard-phone").await;
        client.set_window_size(390, 844).await.unwrap();
        client.goto(&format!("{base}/leads")).await.unwrap();

        let link = client.find(Locator::LinkText("陈晓明")).await.unwrap();
        link.click().await.unwrap();
        wait()
            .for_url(&lead_url)
            .await
            .expect("the lead page from a card");
        assert!(client
            .find(Locator::Id("follow-up-content"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "lead-phone").await;
    }

    /// The page's scroll width and the window's inner width, in CSS pixels.
    pub(crate) async fn widths(client: &Client) -> (i64, i64) {
        let width = client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                Vec::new(),
            )
            .await
            .unwrap();
        (width[0].as_i64().unwrap(), width[1].as_i64().unwrap())
    }

    /// Follows the navigation bar's link to `path`, which must be visible.
    pub(crate) async fn open_from_nav(client: &Client, path: &str) {
        let link = client
            .find(Locator::Css(&format!(".nav a[href='{path}']")))
            .await
            .unwrap();
        assert!(
            link.is_displayed().await.unwrap(),
            "{path} is in the navigation"
        );
        link.click().await.unwrap();
        wait_for_address(client, |a| a.starts_with(path)).await;
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub(crate) async fn fill(client: &Client, css: &str, text: &str) {
        let input = client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Clicks the element `css`.
    pub(crate) async fn click(client: &Client, css: &str) {
        client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Picks the option `value` of the select `css`.
    pub(crate) async fn choose(client: &Client, css: &str, value: &str) {
        client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Clicks a form's button `css` and waits for the page that answers it.
    pub(crate) async fn submit(client: &Client, css: &str) {
        submit_at(client, Locator::Css(css)).await;
    }

    /// Clicks the form button `button` finds and waits for the page that answers it.
    pub(crate) async fn submit_at(client: &Client, button: Locator<'_>) {
        client
            .execute("window.beforeSubmit = true;", Vec::new())
            .await
            .unwrap();
        client
            .find(button)
            .await
            .unwrap_or_else(|e| panic!("{button:?}: {e}"))
            .click()
            .await
            .unwrap();
        let started = Instant::now();
        while client
            .execute("return window.beforeSubmit === true;", Vec::new())
            .await
            .map_or(true, |v| v == serde_json::json!(true))
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no answer to {button:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser's address (path and query) is as `wanted`.
    /// Signs in as `username` (password `password123`) from the leads page, and waits for it.
    pub(crate) async fn sign_in(client: &Client, base: &str, username: &str) {
        let wait = || client.wait().at_most(Duration::from_secs(10));
        client.goto(&format!("{base}/leads")).await.unwrap();
        wait()
            .for_element(Locator::Css("input[name=username]"))
            .await
            .expect("the sign-in page")
            .send_keys(username)
            .await
            .unwrap();
        client
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys("password123")
            .await
            .unwrap();
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(client, |a| a.starts_with("/leads")).await;
    }

    pub(crate) async fn wait_for_address(client: &Client, wanted: impl Fn(&str) -> bool) {
        let started = Instant::now();
        loop {
            let url = client.current_url().await.unwrap();
            if wanted(&format!(
                "{}?{}",
                url.path(),
                url.query().unwrap_or_default()
            )) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the browser is still at {url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
