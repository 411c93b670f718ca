//! Lead imports through the HTTP API: a CSV sent as the raw body, previewed, started with
//! choices, followed to its end and its error report read; a GBK file with Chinese headers
//! sent as a multipart form; bad files refused at upload; a mapping given at start; an
//! import seen by nobody but its user (anyone else starting it gets a 404, whatever the
//! choices sent).

use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;

/// Uploads `bytes` as the raw body.
async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Reply {
    let response = app
        .client
        .post(format!("{}/api/v1/imports?file_name={name}", app.base))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(bytes)
        .send()
        .await
        .expect("the server answers");
    Reply::from(response).await
}

/// Uploads `bytes` as the part `part` of a multipart form, with a file name.
pub(crate) async fn upload_form(
    app: &TestApp,
    token: &str,
    part: &str,
    name: &str,
    bytes: &[u8],
) -> Reply {
    let boundary = "xiansuo-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nfrom the wizard\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(format!("{}/api/v1/imports", app.base))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the server answers");
    Reply::from(response).await
}

/// Sends a request head as written and reads the whole answer, for what an HTTP client
/// library will not send (a declared length without the body).
async fn raw_request(app: &TestApp, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0_u8; 4096];
    // The server closes the connection after refusing the body; stop at the end of the JSON.
    while !answer.ends_with(b"}}") {
        match tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf)).await
        {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("reading the answer: {e}"),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Starts an import and waits until it is no longer running.
pub(crate) async fn start_and_wait(app: &TestApp, token: &str, id: i64, options: Value) -> Value {
    let started = app
        .post(&format!("/api/v1/imports/{id}/start"), token, options)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert_eq!(started.body["state"], "running");
    for _ in 0..600 {
        let now = app.get(&format!("/api/v1/imports/{id}"), token).await;
        assert_eq!(now.status, StatusCode::OK, "{}", now.body);
        if now.body["state"] != "running" {
            return now.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish within 30 s");
}

pub(crate) async fn errors_csv(app: &TestApp, token: &str, id: i64) -> (StatusCode, String) {
    let response = app
        .client
        .get(format!("{}/api/v1/imports/{id}/errors.csv", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn leads(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app.get("/api/v1/leads?sort=id&limit=100", token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["items"].as_array().unwrap().clone()
}

const CSV: &str = "\
First Name,Last Name,Company,Mobile,Email,Lead Source,Favourite colour
Wei,Zhang,杭州云栖科技有限公司,139 1234 5678,zhang.wei@example.com,,blue
Na,Li,上海恒远信息科技有限公司,13800138000,li.na@example.com,Web,green
Fang,Wang,=HYPERLINK(\"http://evil\"),12345,wang.fang@example.com,,red
Lei,Zhao,北京星辰科技有限公司,+86 138-0013-8000,zhao.lei@example.com,,grey
Min,Chen,深圳数安科技有限公司,13700137000,chen.min@example.com,,
";

async fn a_csv_upload_is_previewed_started_and_reported(app: TestApp) {
    let created = upload(&app, &app.admin_token, "leads.csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let body = &created.body;
    assert_eq!(body["state"], "uploaded");
    assert_eq!(body["file_name"], "leads.csv");
    assert_eq!(body["file_size"], CSV.len());
    assert!(
        body["format"].as_str().unwrap().starts_with("CSV, UTF-8"),
        "{body}"
    );
    assert_eq!(body["mapping_error"], Value::Null);
    let mapping: Vec<(&str, &Value)> = body["mapping"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["header"].as_str().unwrap(), &m["field"]))
        .collect();
    assert_eq!(mapping[0], ("First Name", &json!("first_name")));
    assert_eq!(mapping[3], ("Mobile", &json!("phone")));
    assert_eq!(mapping[5], ("Lead Source", &json!("source")));
    assert_eq!(mapping[6], ("Favourite colour", &Value::Null));
    assert_eq!(body["unmapped"], json!(["Favourite colour"]));

    // The preview is what the import would do, and nothing is written yet.
    let preview = body["preview"].as_array().unwrap();
    assert_eq!(preview.len(), 5);
    assert_eq!(preview[0]["row"], 2);
    assert_eq!(preview[0]["lead"]["name"], "Wei Zhang");
    assert!(
        preview[0].get("record").is_none(),
        "a lead's row is previewed as a lead: {}",
        preview[0]
    );
    assert_eq!(preview[0]["result"], "ok");
    assert_eq!(preview[1]["lead"]["source"], "web_form");
    assert_eq!(preview[2]["result"], "warning");
    assert_eq!(preview[2]["field"], "phone");
    assert_eq!(preview[3]["result"], "skipped", "{}", preview[3]);
    assert_eq!(preview[3]["field"], "phone");
    assert!(leads(&app, &app.admin_token).await.is_empty());
    let shown = app
        .get(&format!("/api/v1/imports/{id}"), &app.admin_token)
        .await;
    assert_eq!(shown.body["state"], "uploaded");
    assert_eq!(shown.body["progress"]["rows"], 0);

    let done = start_and_wait(
        &app,
        &app.admin_token,
        id,
        json!({"dedup": "skip", "source": "event"}),
    )
    .await;
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(
        done["progress"],
        json!({"rows": 5, "imported": 4, "updated": 0, "skipped": 1, "failed": 0, "warned": 0, "warnings": 1})
    );
    assert_eq!(done["options"]["dedup"], "skip");
    assert_eq!(done["options"]["source"], "event");
    assert!(done["finished_at"].is_string());
    assert_eq!(
        done["errors_csv"],
        format!("/api/v1/imports/{id}/errors.csv")
    );

    let imported = leads(&app, &app.admin_token).await;
    let names: Vec<&str> = imported
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Wei Zhang", "Na Li", "Fang Wang", "Min Chen"]);
    assert_eq!(imported[0]["source"], "event", "the default source applies");
    assert_eq!(imported[1]["source"], "web_form", "the file's source wins");
    let history = app
        .get(
            &format!("/api/v1/leads/{}/history", imported[0]["id"]),
            &app.admin_token,
        )
        .await;
    assert_eq!(history.body["items"][0]["channel"], "import");

    let (status, report) = errors_csv(&app, &app.admin_token, id).await;
    assert_eq!(status, StatusCode::OK);
    let report = report.strip_prefix('\u{FEFF}').expect("a BOM for Excel");
    let mut lines = csv::Reader::from_reader(report.as_bytes());
    let header = lines.headers().unwrap().clone();
    assert_eq!(
        header.iter().take(5).collect::<Vec<_>>(),
        ["row", "result", "field", "reason", "First Name"]
    );
    let rows: Vec<csv::StringRecord> = lines.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "4");
    assert_eq!(&rows[0][1], "warning", "the phone is kept unverified");
    assert_eq!(&rows[0][2], "phone");
    assert_eq!(&rows[0][6], "'=HYPERLINK(\"http://evil\")", "neutralised");
    assert_eq!(&rows[1][0], "5");
    assert_eq!(&rows[1][1], "skipped");
    assert!(rows[1][3].contains("duplicate"), "{}", &rows[1][3]);

    app.post(
        &format!("/api/v1/imports/{id}/start"),
        &app.admin_token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    // The same file again: imported already.
    upload(&app, &app.admin_token, "again.csv", CSV.as_bytes().to_vec())
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    let list = app.get("/api/v1/imports", &app.admin_token).await;
    assert_eq!(list.ids(), vec![id]);
}

async fn a_gbk_file_with_chinese_headers_is_imported(app: TestApp) {
    let text = "姓名,手机,公司,职位,邮箱\n\
                张三,13800138000,北京星辰科技有限公司,销售总监,zhangsan@example.cn\n\
                李四,13900139000,上海云海信息技术有限公司,采购经理,lisi@example.cn\n\
                王五,13700137001,广州南方贸易有限公司,总经理,\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
    let created = upload_form(&app, &app.admin_token, "file", "客户名单.csv", &gbk).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["file_name"], "客户名单.csv");
    assert!(
        created.body["format"].as_str().unwrap().contains("GBK"),
        "{}",
        created.body
    );
    let fields: Vec<&Value> = created.body["mapping"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["field"])
        .collect();
    assert_eq!(
        fields,
        [
            &json!("name"),
            &json!("phone"),
            &json!("company"),
            &json!("title"),
            &json!("email")
        ]
    );
    assert_eq!(created.body["headers"][0], "姓名");
    assert_eq!(created.body["preview"][0]["lead"]["name"], "张三");

    let rep = app.user("rep", Role::Rep, None).await;
    let done = start_and_wait(&app, &app.admin_token, id, json!({"owner_id": rep.id})).await;
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(done["progress"]["imported"], 3);
    assert_eq!(done["errors_csv"], Value::Null, "no row to report");
    let (status, report) = errors_csv(&app, &app.admin_token, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report.lines().count(), 1, "only the header: {report}");

    let imported = leads(&app, &rep.token).await;
    assert_eq!(imported.len(), 3, "given to the rep");
    assert_eq!(imported[0]["name"], "张三");
    assert_eq!(imported[0]["company"], "北京星辰科技有限公司");
    assert_eq!(imported[0]["title"], "销售总监");
    assert_eq!(imported[0]["phone_normalized"], "+8613800138000");
    assert_eq!(imported[0]["owner_id"], rep.id);
}

async fn bad_files_are_refused_at_upload(app: TestApp) {
    let refused = |reply: Reply, words: &str| {
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], "file", "{}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(words), "{words}: {message}");
    };
    refused(
        upload(&app, &app.admin_token, "empty.csv", Vec::new()).await,
        "empty",
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0".to_vec();
    refused(
        upload(&app, &app.admin_token, "photo.csv", png).await,
        "binary",
    );
    let (latin1, _, _) = encoding_rs::WINDOWS_1252
        .encode("Name,Company\nJosé Müller,Café Größe AG\nFrançois,Hôtel Zürich\n");
    refused(
        upload(&app, &app.admin_token, "latin1.csv", latin1.into_owned()).await,
        "UTF-8 or GBK",
    );
    refused(
        upload(
            &app,
            &app.admin_token,
            "header.csv",
            b"Name,Phone\n".to_vec(),
        )
        .await,
        "no rows",
    );
    let xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    refused(upload(&app, &app.admin_token, "old.xls", xls).await, ".xls");
    refused(
        upload_form(&app, &app.admin_token, "attachment", "a.csv", b"Name\nA\n").await,
        "file",
    );
    app.post("/api/v1/imports?colour=red", &app.admin_token, json!({}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Declared larger than 100 MiB: answered before a byte of the body is sent.
    let answer = raw_request(
        &app,
        &format!(
            "POST /api/v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
            app.admin_token,
            100 * 1024 * 1024 + 1
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");

    let none = app.get("/api/v1/imports", &app.admin_token).await;
    assert!(none.ids().is_empty(), "nothing was stored");
}

async fn choices_are_checked_and_a_mapping_can_be_given_at_start(app: TestApp) {
    let file = "Kontakt,Telefon\nAnna Schmidt,13800138000\nJonas Weber,13900139000\n";
    let created = upload(&app, &app.admin_token, "de.csv", file.as_bytes().to_vec()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert!(
        created.body["mapping_error"]
            .as_str()
            .unwrap()
            .contains("name"),
        "{}",
        created.body
    );
    assert_eq!(created.body["preview"], json!([]));

    let start = format!("/api/v1/imports/{id}/start");
    for (options, field) in [
        (json!({}), "mapping"),
        (json!({"mapping": {"Kontakt": "nickname"}}), "mapping"),
        (
            json!({"mapping": {"Kontakt": "name"}, "dedup": "ask"}),
            "dedup",
        ),
        (
            json!({"mapping": {"Kontakt": "name"}, "source": "Not A Code!"}),
            "source",
        ),
        (
            json!({"mapping": {"Kontakt": "name"}, "owner_id": 999_999}),
            "owner_id",
        ),
        (
            json!({"mapping": {"Kontakt": "name"}, "speed": "fast"}),
            "speed",
        ),
    ] {
        let reply = app.post(&start, &app.admin_token, options).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    let shown = app
        .get(&format!("/api/v1/imports/{id}"), &app.admin_token)
        .await;
    assert_eq!(
        shown.body["state"], "uploaded",
        "a refused start changes nothing"
    );

    let done = start_and_wait(
        &app,
        &app.admin_token,
        id,
        json!({"mapping": {"Kontakt": "name", "Telefon": "phone"}, "dedup": "warn"}),
    )
    .await;
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(done["progress"]["imported"], 2);
    assert_eq!(done["mapping"][0]["field"], "name");
    assert_eq!(done["options"]["mapping"]["Kontakt"], "name");
    let imported = leads(&app, &app.admin_token).await;
    assert_eq!(imported[1]["name"], "Jonas Weber");
    assert_eq!(imported[1]["phone_normalized"], "+8613900139000");
}

async fn an_import_belongs_to_its_user(app: TestApp) {
    let team = app.team("华东", None).await;
    let manager = app.user("manager", Role::Manager, Some(team)).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let outsider = app.user("outsider", Role::Rep, None).await;
    let created = upload(
        &app,
        &manager.token,
        "team.csv",
        b"Name,Phone\nA One,13800138000\n".to_vec(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();

    for token in [&rep.token, &outsider.token, &app.admin_token] {
        app.get(&format!("/api/v1/imports/{id}"), token)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        for choices in [json!({}), json!({"speed": "fast"}), json!(["mapping"])] {
            app.post(&format!("/api/v1/imports/{id}/start"), token, choices)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(errors_csv(&app, token, id).await.0, StatusCode::NOT_FOUND);
        let list = app.get("/api/v1/imports", token).await;
        assert!(list.ids().is_empty());
    }
    // Leads can go to someone in the manager's scope, not outside it.
    app.post(
        &format!("/api/v1/imports/{id}/start"),
        &manager.token,
        json!({"owner_id": outsider.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let done = start_and_wait(&app, &manager.token, id, json!({"owner_id": rep.id})).await;
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(leads(&app, &rep.token).await.len(), 1);
    assert!(leads(&app, &outsider.token).await.is_empty());
}

on_both_databases!(
    a_csv_upload_is_previewed_started_and_reported,
    a_gbk_file_with_chinese_headers_is_imported,
    bad_files_are_refused_at_upload,
    choices_are_checked_and_a_mapping_can_be_given_at_start,
    an_import_belongs_to_its_user,
);
