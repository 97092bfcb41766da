#ifndef IGMEDIA_CFASTCGI_SHIM_H
#define IGMEDIA_CFASTCGI_SHIM_H
#include <errno.h>
#include <fcgiapp.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * libfcgi's public API, plus the connection descriptor, which fcgiapp.h lists below "Don't use
 * anything below here". The reason: libfcgi writes FCGI_STDOUT through a fixed 8 KB buffer, so a
 * 24 KB feed costs four write(2) calls and four wake-ups of nginx; the responder frames the whole
 * response itself (STDOUT records, the empty STDOUT record, FCGI_END_REQUEST) and writes it in one
 * writev on `ipcFd`. Owning the write means owning the end of the request too: FCGX_Free(r, 0)
 * releases libfcgi's streams and params without writing anything, and the connection is either
 * kept (nginx asked, FCGI_KEEP_CONN), closed at once (unix socket: nothing is left unread, so no
 * lingering close is needed), or closed by libfcgi's lingering close (TCP).
 *
 * Besides `ipcFd` (read, and reset to -1 once we closed it, so libfcgi never closes the number a
 * second time), one more internal field is read, never written: `keepConnection`, the
 * FCGI_KEEP_CONN flag of FCGI_BEGIN_REQUEST, which libfcgi exposes nowhere else.
 * libfcgi's ABI has not changed since 2.4.0; the end-to-end tests run every response through here.
 */

/* Whether nginx asked to keep the connection open after this request. */
static inline int igmedia_fcgx_keep_requested(const FCGX_Request *request) {
    return request->keepConnection;
}

/* Writes framed records to the request's connection from up to four pieces (record header, CGI
 * head, body, trailer) with writev, so the body is never copied into a second buffer. Finishes
 * partial writes. Returns 0, or -1 with errno set (EPIPE when nginx gave up on the request). */
static inline int igmedia_fcgx_write_pieces(FCGX_Request *request,
                                            const void *a, size_t aLength, const void *b, size_t bLength,
                                            const void *c, size_t cLength, const void *d, size_t dLength) {
    struct iovec pieces[4] = {
        { (void *)a, aLength }, { (void *)b, bLength }, { (void *)c, cLength }, { (void *)d, dLength },
    };
    struct iovec *next = pieces;
    int left = 4;
    while (left > 0) {
        ssize_t written = writev(request->ipcFd, next, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        while (left > 0 && (size_t)written >= next->iov_len) {
            written -= (ssize_t)next->iov_len;
            next++;
            left--;
        }
        if (left > 0) {
            next->iov_base = (char *)next->iov_base + written;
            next->iov_len -= (size_t)written;
        }
    }
    return 0;
}

/* Ends a request whose whole answer was written with igmedia_fcgx_write_pieces: nothing more goes
 * on the connection. keep: leave it open for nginx's next request (the next FCGX_Accept_r reads
 * it). Otherwise plainClose closes it at once; else libfcgi closes it with its lingering close. */
static inline void igmedia_fcgx_end(FCGX_Request *request, int keep, int plainClose) {
    if (keep) {
        FCGX_Free(request, 0);
    } else if (plainClose) {
        int fd = request->ipcFd;
        request->ipcFd = -1;
        FCGX_Free(request, 0);
        if (fd >= 0) close(fd);
    } else {
        FCGX_Free(request, 1);
    }
}
#endif
