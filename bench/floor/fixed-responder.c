/* The floor of the FastCGI hop, for README "Where the time goes": a trivial libfcgi responder
 * (2 threads, libfcgi's own writer) that answers /photos with the bytes of a file and anything
 * else with a /health-sized JSON body. Same nginx config as the responder, so the ratio
 * /photos ÷ /health it reaches is what moving the body costs on this box, whatever the code.
 *
 *   cc -O2 -o fixed bench/floor/fixed-responder.c -lfcgi -lpthread
 *   ./fixed /tmp/fixed.sock .run/bench/static/photos.json &   # the body `make bench` served
 *   scripts/render-nginx-conf --http-port 8089 --fcgi-socket /tmp/fixed.sock --run-dir RUN --output RUN/nginx.conf
 *   nginx -p RUN -e RUN/error.log -c RUN/nginx.conf
 *   wrk -t2 -c64 -d8s http://127.0.0.1:8089/photos; wrk -t2 -c64 -d8s http://127.0.0.1:8089/health
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
static char *big; static long bigLen; static int sock;
static const char *small = "{\"success\":true,\"data\":{\"status\":\"healthy\",\"timestamp\":\"2026-11-30T06:00:00.000Z\"}}";
static void *loop(void *arg) {
    FCGX_Request r; FCGX_InitRequest(&r, sock, 0);
    char head[256];
    while (FCGX_Accept_r(&r) >= 0) {
        const char *uri = FCGX_GetParam("DOCUMENT_URI", r.envp);
        int photos = uri && strcmp(uri, "/photos") == 0;
        const char *body = photos ? big : small; long len = photos ? bigLen : (long)strlen(small);
        int n = snprintf(head, sizeof head, "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %ld\r\n\r\n", len);
        FCGX_PutStr(head, n, r.out); FCGX_PutStr(body, (int)len, r.out);
        FCGX_Finish_r(&r);
    }
    return NULL;
}
int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s SOCKET BODY_FILE\n", argv[0]); return 2; }
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) { perror(argv[2]); return 1; }
    fseek(f, 0, SEEK_END); bigLen = ftell(f); fseek(f, 0, SEEK_SET);
    big = malloc(bigLen); fread(big, 1, bigLen, f); fclose(f);
    FCGX_Init(); sock = FCGX_OpenSocket(argv[1], 1024); chmod(argv[1], 0666);
    pthread_t t[2]; for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, loop, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    return 0;
}
