#ifndef IGMEDIA_CFASTCGI_SHIM_H
#define IGMEDIA_CFASTCGI_SHIM_H
#include <errno.h>
#include <fcgiapp.h>
#include <fcgios.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * libfcgi writes FCGI_STDOUT through a fixed 8 KB buffer: a 24 KB feed costs four write(2) calls
 * and four wake-ups of nginx. These two helpers let the responder hand over a whole response,
 * already framed (the STDOUT records, the empty STDOUT record and FCGI_END_REQUEST), in one write.
 * They touch FCGX_Request's ipcFd, which fcgiapp.h marks internal; libfcgi's ABI has not changed
 * since 2.4.0, and the end-to-end tests run every response through this path.
 */

/* Closes libfcgi's two writers without writing: FCGX_Finish_r then adds nothing to the
 * connection. Call only when nothing was put on either stream. Closing err first keeps libfcgi
 * from emitting FCGI_END_REQUEST there (it does that for the last of its two writers only). */
static inline void igmedia_fcgx_close_writers(FCGX_Request *request) {
    FCGX_FClose(request->err);
    request->out->isClosed = 1;
    request->out->wasFCloseCalled = 1;
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

/* Skips libfcgi's lingering close (shutdown, then wait up to 2 s for nginx to close its end) for
 * this request's connection. Safe once stdin was read to its end: nothing unread is left that
 * could turn the close into a reset. */
static inline void igmedia_fcgx_plain_close(FCGX_Request *request) {
    request->detached = 1;
}
#endif
