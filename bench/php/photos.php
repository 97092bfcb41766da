<?php
// GET /photos the way an nginx + php-fpm + phpredis shop would write it: the benchmark's
// reference point (scripts/bench, target "php-fpm + phpredis"). The same reads as the Swift
// responder, against the same redis-server and keys:
//   1. GET auth_token:{token}                                    -> tenant id
//   2. EXISTS tenant:{id}, GET instagram:{id}:photos, GET instagram:{id}:photos:etag (pipelined)
// and the same envelope, bytes and headers: {"success":true,"data":{"photos":<stored JSON>}}.
// One persistent redis connection per php-fpm worker (pconnect). Not part of the service.

function fail(int $status, string $code, string $message): void
{
    http_response_code($status);
    echo '{"success":false,"code":"', $code, '","errorMessage":"', $message, '"}';
}

header('Content-Type: application/json; charset=utf-8');
if (isset($_SERVER['REQUEST_ID'])) {
    header('X-Request-Id: ' . $_SERVER['REQUEST_ID']);
}

$auth = $_SERVER['HTTP_AUTHORIZATION'] ?? '';
if (strncmp($auth, 'Bearer ', 7) !== 0 || strlen($auth) < 15) {
    fail(401, 'UNAUTHORIZED', 'Missing or invalid authorization');
    return;
}
$token = substr($auth, 7);

try {
    $redis = new Redis();
    $redis->pconnect('127.0.0.1', (int) getenv('IGMEDIA_REDIS_PORT'), 2.0);
    $tenant = $redis->get('auth_token:' . $token);
    if (!is_string($tenant)) {
        fail(401, 'UNAUTHORIZED', 'Missing or invalid authorization');
        return;
    }
    [$exists, $photos, $etag] = $redis->pipeline()
        ->exists('tenant:' . $tenant)
        ->get('instagram:' . $tenant . ':photos')
        ->get('instagram:' . $tenant . ':photos:etag')
        ->exec();
} catch (RedisException $e) {
    fail(503, 'SERVICE_UNAVAILABLE', 'The service is unavailable, try again shortly');
    return;
}
if (!$exists) {
    fail(404, 'NOT_FOUND', 'Tenant not found');
    return;
}
if (!is_string($photos)) {
    $photos = '[]';
    $etag = false;
}
if (is_string($etag)) {
    header('ETag: ' . $etag);
}
header('Cache-Control: private, max-age=60');
echo '{"success":true,"data":{"photos":', $photos, '}}';
