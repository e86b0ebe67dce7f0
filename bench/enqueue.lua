-- Durable enqueue: every request is a POST without a cookie, so each one makes a new ticket (201).
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Type"] = "application/json"
