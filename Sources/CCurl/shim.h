#ifndef IGMEDIA_CCURL_SHIM_H
#define IGMEDIA_CCURL_SHIM_H
#include <curl/curl.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* curl_easy_setopt / curl_easy_getinfo are variadic: Swift cannot call them, so each argument type
   gets a typed inline wrapper. */
typedef size_t (*igm_curl_write_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode igm_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode igm_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode igm_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode igm_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode igm_curl_setopt_write_cb(CURL *h, CURLoption o, igm_curl_write_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode igm_curl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode igm_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode igm_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode igm_curl_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode igm_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/* Outbound requests to addresses chosen by others (tenants' webhook URLs): curl calls this with
   the address it is about to connect to (after DNS, for every attempt, so a name that resolves
   to a private address, or rebinds to one, is refused where it matters). Refused: loopback,
   unspecified, private (RFC 1918, ULA), link-local (cloud metadata 169.254.169.254 among them),
   CGNAT, benchmarking, IETF-reserved, multicast and broadcast, and IPv4-mapped or NAT64 forms
   of those. `clientp` points at an int set to 1 when a connection was refused. */
static inline int igm_ipv4_is_public(const unsigned char *b) {
    if (b[0] == 0 || b[0] == 10 || b[0] == 127) return 0;
    if (b[0] == 100 && (b[1] & 0xC0) == 64) return 0;          /* 100.64.0.0/10 CGNAT */
    if (b[0] == 169 && b[1] == 254) return 0;                   /* link-local, metadata */
    if (b[0] == 172 && (b[1] & 0xF0) == 16) return 0;           /* 172.16.0.0/12 */
    if (b[0] == 192 && b[1] == 0 && b[2] == 0) return 0;        /* 192.0.0.0/24 */
    if (b[0] == 192 && b[1] == 0 && b[2] == 2) return 0;        /* TEST-NET-1 */
    if (b[0] == 192 && b[1] == 168) return 0;
    if (b[0] == 198 && (b[1] & 0xFE) == 18) return 0;           /* 198.18.0.0/15 */
    if (b[0] == 198 && b[1] == 51 && b[2] == 100) return 0;     /* TEST-NET-2 */
    if (b[0] == 203 && b[1] == 0 && b[2] == 113) return 0;      /* TEST-NET-3 */
    if (b[0] >= 224) return 0;                                   /* multicast, reserved, broadcast */
    return 1;
}

static inline int igm_address_is_public(const struct sockaddr *address) {
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        return igm_ipv4_is_public((const unsigned char *)&v4->sin_addr.s_addr);
    }
    if (address->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)address)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        static const unsigned char nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
        static const unsigned char zero[15] = {0};
        if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) return igm_ipv4_is_public(b + 12);
        if (memcmp(b, zero, 15) == 0) return 0;                  /* :: and ::1 */
        if ((b[0] & 0xFE) == 0xFC) return 0;                     /* fc00::/7 unique local */
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return 0;     /* fe80::/10 link-local */
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return 0;     /* fec0::/10 site-local */
        if (b[0] == 0xFF) return 0;                              /* multicast */
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return 0;  /* documentation */
        return 1;
    }
    return 0;
}

static curl_socket_t igm_opensocket_public_only(void *clientp, curlsocktype purpose, struct curl_sockaddr *address) {
    if (purpose == CURLSOCKTYPE_IPCXN && !igm_address_is_public(&address->addr)) {
        if (clientp) *(int *)clientp = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* Only public addresses for this handle; `refused` is set to 1 when one was not. */
static inline CURLcode igm_curl_public_addresses_only(CURL *h, int *refused) {
    CURLcode code = curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, igm_opensocket_public_only);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)refused);
}

#endif
