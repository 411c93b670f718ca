//! The web UI as people use it: over HTTP with a cookie-keeping client (sign-in cookie, CSRF on
//! every form, creating and finding a lead, data scope, escaping, language), and once in a real
//! headless Chromium driven through ChromeDriver, at desktop and at phone width.

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
);

/// A page as the server sent it.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("a redirect, got {}: {}", self.status, self.body))
    }

    /// The value of the first hidden `csrf_token` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("a CSRF field in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("the end of the value");
        self.body[start..start + end].to_owned()
    }

    fn assert_html(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.headers[CONTENT_TYPE], "text/html; charset=utf-8");
    }
}

/// A browser without a browser: keeps cookies and shows redirects instead of following them.
struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
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
    async fn signed_in(app: &TestApp, username: &str) -> Browser {
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

    async fn get(&self, path: &str) -> Page {
        Self::page(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("the server answers"),
        )
        .await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
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

    /// The CSRF token of the signed-in session, as the pages carry it.
    async fn csrf(&self) -> String {
        self.get("/leads/new").await.csrf()
    }
}

/// The id at the end of a `/leads/{id}` redirect.
fn lead_id(location: &str) -> i64 {
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
        for raw in ["<script", "<img", "<b>vip", "<iframe"] {
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
fn shown_text(html: &str) -> String {
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

mod browser {
    //! One real-browser run: ChromeDriver and headless Chromium, started by the test.

    use crate::support::{Backend, TestApp};
    use fantoccini::{Client, ClientBuilder, Locator};
    use serde_json::{json, Value};
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};
    use xiansuo_core::role::Role;

    /// The ChromeDriver process; killed when the test ends, however it ends.
    struct ChromeDriver {
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
    fn find_chromedriver() -> Option<PathBuf> {
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

    async fn start_chromedriver(path: PathBuf) -> ChromeDriver {
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_person_works_a_lead_in_headless_chromium() {
        let Some(chromedriver) = find_chromedriver() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("chromedriver is required in CI: install chromium and chromium-driver");
            }
            eprintln!(
                "skipping: chromedriver not found (apt-get install chromium chromium-driver)"
            );
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

        let driver = start_chromedriver(chromedriver).await;
        let profile = tempfile::tempdir().expect("a profile directory");
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
                format!("--user-data-dir={}", profile.path().display()),
            ]
        });
        if let Some(binary) = find_chromium() {
            options["binary"] = Value::from(binary);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");

        // The scenario runs as a task of its own so that a failed assertion still ends the
        // browser session before the test fails.
        let outcome = tokio::spawn(scenario(client.clone(), app.base.clone())).await;
        let _ = client.close().await;
        drop(driver);
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    async fn text_of(client: &Client, css: &str) -> String {
        client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Saves a screenshot when `XIANSUO_SCREENSHOTS` names a directory, to look at the pages.
    async fn screenshot(client: &Client, name: &str) {
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
        let width = client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                Vec::new(),
            )
            .await
            .unwrap();
        let (scroll, inner) = (width[0].as_i64().unwrap(), width[1].as_i64().unwrap());
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

    /// Waits until the browser's address (path and query) is as `wanted`.
    async fn wait_for_address(client: &Client, wanted: impl Fn(&str) -> bool) {
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
