//! The compiled-in component description files of the built-in systems
//! (`crates/rca/systems/<system>/components/<service>.md`), in each system's service order.

/// (service, Markdown text) of each description file of built-in system `system`.
pub(crate) fn builtin_component_docs(
    system: &str,
) -> Option<&'static [(&'static str, &'static str)]> {
    match system {
        "online-boutique" => Some(&[
            ("frontend", include_str!("../../../systems/online-boutique/components/frontend.md")),
            (
                "cartservice",
                include_str!("../../../systems/online-boutique/components/cartservice.md"),
            ),
            (
                "productcatalogservice",
                include_str!(
                    "../../../systems/online-boutique/components/productcatalogservice.md"
                ),
            ),
            (
                "currencyservice",
                include_str!("../../../systems/online-boutique/components/currencyservice.md"),
            ),
            (
                "paymentservice",
                include_str!("../../../systems/online-boutique/components/paymentservice.md"),
            ),
            (
                "shippingservice",
                include_str!("../../../systems/online-boutique/components/shippingservice.md"),
            ),
            (
                "emailservice",
                include_str!("../../../systems/online-boutique/components/emailservice.md"),
            ),
            (
                "checkoutservice",
                include_str!("../../../systems/online-boutique/components/checkoutservice.md"),
            ),
            (
                "recommendationservice",
                include_str!(
                    "../../../systems/online-boutique/components/recommendationservice.md"
                ),
            ),
            ("adservice", include_str!("../../../systems/online-boutique/components/adservice.md")),
            (
                "redis-cart",
                include_str!("../../../systems/online-boutique/components/redis-cart.md"),
            ),
        ]),
        "sock-shop" => Some(&[
            ("front-end", include_str!("../../../systems/sock-shop/components/front-end.md")),
            ("session-db", include_str!("../../../systems/sock-shop/components/session-db.md")),
            ("catalogue", include_str!("../../../systems/sock-shop/components/catalogue.md")),
            ("catalogue-db", include_str!("../../../systems/sock-shop/components/catalogue-db.md")),
            ("carts", include_str!("../../../systems/sock-shop/components/carts.md")),
            ("carts-db", include_str!("../../../systems/sock-shop/components/carts-db.md")),
            ("orders", include_str!("../../../systems/sock-shop/components/orders.md")),
            ("orders-db", include_str!("../../../systems/sock-shop/components/orders-db.md")),
            ("payment", include_str!("../../../systems/sock-shop/components/payment.md")),
            ("user", include_str!("../../../systems/sock-shop/components/user.md")),
            ("user-db", include_str!("../../../systems/sock-shop/components/user-db.md")),
            ("shipping", include_str!("../../../systems/sock-shop/components/shipping.md")),
            ("rabbitmq", include_str!("../../../systems/sock-shop/components/rabbitmq.md")),
            ("queue-master", include_str!("../../../systems/sock-shop/components/queue-master.md")),
        ]),
        _ => None,
    }
}
