//! Possible duplicates of a lead (`GET /api/v1/leads/{id}/duplicates`): other leads with the
//! same phone in any format, the same email in any case, or the same company however its legal
//! form and region are written — only those the caller may see.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    the_same_phone_in_another_format_is_a_duplicate,
    the_same_email_in_another_case_is_a_duplicate,
    the_same_company_with_or_without_legal_form_and_region_is_a_duplicate,
    changing_the_company_changes_what_it_matches,
    deleted_leads_and_the_lead_itself_are_not_duplicates,
    a_rep_sees_only_duplicates_within_their_scope,
    an_unknown_or_unseen_lead_is_not_found,
);

fn id(lead: &Value) -> i64 {
    lead["id"].as_i64().expect("a lead id")
}

async fn duplicates(app: &TestApp, token: &str, lead: i64) -> Vec<i64> {
    let reply = app
        .get(&format!("/api/v1/leads/{lead}/duplicates"), token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.ids()
}

async fn the_same_phone_in_another_format_is_a_duplicate(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "张伟", "phone": "+86 138-0013-8000"}))
        .await;
    let second = app
        .lead(t, json!({"name": "张先生", "phone": "13800138000"}))
        .await;
    app.lead(t, json!({"name": "李娜", "phone": "13800138001"}))
        .await;
    assert_eq!(duplicates(&app, t, id(&first)).await, vec![id(&second)]);
    assert_eq!(duplicates(&app, t, id(&second)).await, vec![id(&first)]);
}

async fn the_same_email_in_another_case_is_a_duplicate(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "王芳", "email": "Wang.Fang@Example.COM"}))
        .await;
    let second = app
        .lead(
            t,
            json!({"name": "Fang Wang", "email": "wang.fang@example.com"}),
        )
        .await;
    app.lead(t, json!({"name": "王芳", "email": "wangfang@example.com"}))
        .await;
    assert_eq!(duplicates(&app, t, id(&first)).await, vec![id(&second)]);
}

async fn the_same_company_with_or_without_legal_form_and_region_is_a_duplicate(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(
            t,
            json!({"name": "张伟", "company": "上海恒远信息科技有限公司"}),
        )
        .await;
    assert_eq!(first["company_key"], "恒远信息科技");
    let bracketed = app
        .lead(
            t,
            json!({"name": "李娜", "company": "恒远信息科技（上海）有限公司"}),
        )
        .await;
    let bare = app
        .lead(t, json!({"name": "刘洋", "company": "恒远信息科技"}))
        .await;
    let other = app
        .lead(
            t,
            json!({"name": "陈静", "company": "上海恒远信息技术有限公司"}),
        )
        .await;
    app.lead(t, json!({"name": "赵磊"})).await;
    assert_eq!(
        duplicates(&app, t, id(&first)).await,
        vec![id(&bracketed), id(&bare)],
        "oldest first; 信息技术 is another company"
    );
    assert_eq!(
        duplicates(&app, t, id(&other)).await,
        Vec::<i64>::new(),
        "nothing shares its company, phone or email"
    );

    let latin = app
        .lead(
            t,
            json!({"name": "Wei Zhang", "company": "Hengyuan Co., Ltd."}),
        )
        .await;
    let upper = app
        .lead(t, json!({"name": "Li Na", "company": "HENGYUAN INC"}))
        .await;
    assert_eq!(duplicates(&app, t, id(&latin)).await, vec![id(&upper)]);

    let account = app
        .post(
            "/api/v1/accounts",
            t,
            json!({"name": "恒远信息科技（上海）有限公司"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
    assert_eq!(
        account.body["company_key"], first["company_key"],
        "an account's name has the same key as a lead's company"
    );
}

async fn changing_the_company_changes_what_it_matches(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(
            t,
            json!({"name": "张伟", "company": "杭州云帆网络科技有限公司"}),
        )
        .await;
    let second = app
        .lead(
            t,
            json!({"name": "李娜", "company": "深圳华信通讯有限公司"}),
        )
        .await;
    assert!(duplicates(&app, t, id(&first)).await.is_empty());

    let changed = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"company": "云帆网络科技（浙江）有限公司"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["company_key"], "云帆网络科技");
    assert_eq!(duplicates(&app, t, id(&first)).await, vec![id(&second)]);

    let cleared = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"company": null}),
        )
        .await;
    assert_eq!(cleared.body["company_key"], json!(null));
    assert!(duplicates(&app, t, id(&first)).await.is_empty());
}

async fn deleted_leads_and_the_lead_itself_are_not_duplicates(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "张伟", "phone": "13800138000"}))
        .await;
    let second = app
        .lead(t, json!({"name": "张伟", "phone": "138 0013 8000"}))
        .await;
    let reply = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(duplicates(&app, t, id(&first)).await.is_empty());
}

async fn a_rep_sees_only_duplicates_within_their_scope(app: TestApp) {
    let team = app.team("上海一组", None).await;
    let rep = app.user("rep_sh", Role::Rep, Some(team)).await;
    let colleague = app.user("rep_sh2", Role::Rep, Some(team)).await;
    let mine = app
        .lead(
            &rep.token,
            json!({"name": "张伟", "company": "北京字节跳动科技有限公司"}),
        )
        .await;
    let also_mine = app
        .lead(
            &rep.token,
            json!({"name": "李娜", "company": "字节跳动科技（北京）有限公司"}),
        )
        .await;
    let theirs = app
        .lead(
            &colleague.token,
            json!({"name": "刘洋", "company": "字节跳动科技"}),
        )
        .await;
    assert_eq!(
        duplicates(&app, &rep.token, id(&mine)).await,
        vec![id(&also_mine)],
        "the colleague's lead is outside the rep's scope"
    );
    assert_eq!(
        duplicates(&app, &app.admin_token, id(&mine)).await,
        vec![id(&also_mine), id(&theirs)],
        "the admin sees every duplicate"
    );
}

async fn an_unknown_or_unseen_lead_is_not_found(app: TestApp) {
    app.get("/api/v1/leads/999999/duplicates", &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let rep = app.user("rep", Role::Rep, None).await;
    let admins = app
        .lead(
            &app.admin_token,
            json!({"name": "张伟", "phone": "13800138000"}),
        )
        .await;
    app.get(
        &format!("/api/v1/leads/{}/duplicates", id(&admins)),
        &rep.token,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}
