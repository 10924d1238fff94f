// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_FAULTS_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_FAULTS_IPP

// How an answer reaches the client, without I/O: an injected Fault turned into a Plan (what to
// answer, and how to deliver it: whole, cut, reset, dripped or never), and the bytes of a
// response. Part of fake_alation.ipp.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/testing/fake_alation.hpp>
#include <alation/auth/testing/impl/fake_requests.ipp>

#include <chrono>
#include <cstddef>
#include <string>

namespace alation::auth::testing::detail {

// How an answer reaches the client (Fault::Kind, once the server has decided what to answer).
enum class Delivery { normal, reset_before, reset_during, truncated, silent, drip, close_after };

struct Plan {
    Answer answer;
    Delivery delivery = Delivery::normal;
    std::chrono::milliseconds delay{0};
};

// The answer a Fault of kind `respond` gives.
ALATION_AUTH_DECL Answer fault_answer(const Fault& fault) {
    Answer a;
    a.status = fault.status;
    if (!fault.body.empty()) {
        a.body = fault.body;
        if (fault.html) a.content_type = "text/html";
    } else if (fault.html) {
        const std::string title = std::to_string(fault.status) + " " + reason(fault.status);
        a.content_type = "text/html";
        a.body = "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
                 "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    } else {
        a = json_error(fault.status, reason(fault.status) + ".", std::to_string(fault.status * 1000));
    }
    if (!fault.content_type.empty()) a.content_type = fault.content_type;
    a.retry_after = fault.retry_after;
    return a;
}

// The bytes of a response; `header_size` is where the body starts.
struct Wire {
    std::string bytes;
    std::size_t header_size = 0;
};

ALATION_AUTH_DECL Wire serialize(const Answer& a, bool announce_close) {
    Wire w;
    std::string& s = w.bytes;
    s = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) + "\r\nServer: fake-alation\r\n";
    s += "Content-Type: " + a.content_type + "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\n";
    if (a.retry_after) s += "Retry-After: " + *a.retry_after + "\r\n";
    if (!a.allow.empty()) s += "Allow: " + a.allow + "\r\n";
    if (!a.www_authenticate.empty()) s += "WWW-Authenticate: " + a.www_authenticate + "\r\n";
    if (announce_close) s += "Connection: close\r\n";
    s += "\r\n";
    w.header_size = s.size();
    s += a.body;
    return w;
}

struct InjectedFault {
    std::string path;
    Fault fault;
    int remaining = 0;
};

}  // namespace alation::auth::testing::detail

#endif
