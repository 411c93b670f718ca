//! How leads come in and news goes out: public web forms, signed webhooks, group robots of
//! WeCom, DingTalk and Feishu, e-mail, in-app notifications, and the events they are raised
//! from.

pub mod announce;
pub mod events;
pub mod forms;
pub mod mail;
pub mod notifications;
pub mod outbound;
pub mod robots;
pub mod webhooks;
