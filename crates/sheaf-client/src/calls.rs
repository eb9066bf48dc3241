//! The routes the client calls, one constant each, checked against
//! `sheaf_proto::routes::ROUTES` by the tests below so that a route added or changed there
//! cannot go unnoticed here.

use sheaf_proto::routes::Method;

/// One route as the client calls it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// With `{name}` parameters, filled in order by [`Call::path`].
    pub(crate) template: &'static str,
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the route-table test"))]
    pub(crate) operation_id: &'static str,
}

macro_rules! calls {
    ($($name:ident = $m:ident $path:literal $op:literal;)*) => {
        $(pub(crate) const $name: Call = Call {
            method: Method::$m,
            template: $path,
            operation_id: $op,
        };)*
        #[cfg(test)]
        pub(crate) const ALL: &[Call] = &[$($name),*];
    };
}

calls! {
    HEALTH = Get "/v1/health" "health";
    OPENAPI = Get "/v1/openapi.json" "openapi";
    LIST_COLLECTIONS = Get "/v1/collections" "list_collections";
    CREATE_COLLECTION = Post "/v1/collections" "create_collection";
    GET_COLLECTION = Get "/v1/collections/{cid}" "get_collection";
    UPDATE_COLLECTION = Patch "/v1/collections/{cid}" "update_collection";
    DELETE_COLLECTION = Delete "/v1/collections/{cid}" "delete_collection";
    RESTORE_COLLECTION = Post "/v1/collections/{cid}/restore" "restore_collection";
    LIST_ENTRIES = Get "/v1/collections/{cid}/items" "list_entries";
    BATCH_ADD = Post "/v1/collections/{cid}/items" "batch_add";
    BATCH_REMOVE = Post "/v1/collections/{cid}/items/remove" "batch_remove";
    REORDER = Post "/v1/collections/{cid}/items/reorder" "reorder";
    GET_ENTRY = Get "/v1/collections/{cid}/items/{item_id}" "get_entry";
    ADD_ENTRY = Post "/v1/collections/{cid}/items/{item_id}" "add_entry";
    UPDATE_ENTRY = Patch "/v1/collections/{cid}/items/{item_id}" "update_entry";
    REMOVE_ENTRY = Delete "/v1/collections/{cid}/items/{item_id}" "remove_entry";
    LIST_ITEMS = Get "/v1/items" "list_items";
    REGISTER_ITEMS = Post "/v1/items" "register_items";
    GET_ITEM = Get "/v1/items/{item_id}" "get_item";
    UPDATE_ITEM = Patch "/v1/items/{item_id}" "update_item";
    LIST_WATCHES = Get "/v1/watches" "list_watches";
    CREATE_WATCH = Post "/v1/watches" "create_watch";
    DELETE_WATCH = Delete "/v1/watches/{wid}" "delete_watch";
    RESCAN_WATCH = Post "/v1/watches/{wid}/rescan" "rescan_watch";
    EVENTS = Get "/v1/events" "events";
    LIST_OPS = Get "/v1/ops" "list_ops";
    UNDO = Post "/v1/ops/{op_id}/undo" "undo";
}

impl Call {
    /// The path with each `{…}` parameter replaced, in order, by the next of `params`,
    /// percent-encoded so that whatever the caller passes stays one segment (the daemon
    /// then answers a malformed id with its own error, not a 404 for another route).
    pub(crate) fn path(&self, params: &[&str]) -> String {
        let mut out = String::with_capacity(self.template.len() + 32);
        let mut params = params.iter();
        let mut rest = self.template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            out.push_str(&encode_segment(params.next().copied().unwrap_or_default()));
            rest = &rest[close..];
        }
        out.push_str(rest);
        out
    }

    pub(crate) fn reqwest_method(&self) -> reqwest::Method {
        match self.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    /// `GET /v1/health`, for messages.
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.method.as_str(), self.template)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode_segment(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sheaf_proto::routes::ROUTES;

    #[test]
    fn every_route_of_the_table_has_exactly_one_call_and_no_call_is_extra() {
        for route in ROUTES {
            let calls: Vec<_> = ALL
                .iter()
                .filter(|c| c.operation_id == route.operation_id)
                .collect();
            assert_eq!(calls.len(), 1, "route {} has no call", route.operation_id);
            assert_eq!(calls[0].method, route.method, "{}", route.operation_id);
            assert_eq!(calls[0].template, route.path, "{}", route.operation_id);
        }
        assert_eq!(ALL.len(), ROUTES.len());
    }

    #[test]
    fn parameters_fill_the_template_in_order_and_stay_one_segment() {
        assert_eq!(
            GET_ENTRY.path(&["inbox", "doc_01J"]),
            "/v1/collections/inbox/items/doc_01J"
        );
        assert_eq!(GET_COLLECTION.path(&["a/b c"]), "/v1/collections/a%2Fb%20c");
        assert_eq!(UNDO.path(&["op_1"]), "/v1/ops/op_1/undo");
        assert_eq!(RESCAN_WATCH.path(&["w_1"]), "/v1/watches/w_1/rescan");
        assert_eq!(HEALTH.path(&[]), "/v1/health");
    }

    #[test]
    fn non_ascii_is_encoded_byte_by_byte() {
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment("a.b-c_d~e"), "a.b-c_d~e");
    }
}
