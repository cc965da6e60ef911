<?php
// A notify-then-re-fetch Events API receiver written the way PHP connectors are (a Sylius-style controller):
// it verifies the signature and the timestamp, answers the "Test" request, checks the whole batch, then for
// each event re-reads the product or product model from the PIM's REST API and stores what it read, decoded
// with json_decode($json, true) into PHP arrays. It neither deduplicates nor orders: every notification
// re-reads the current state, so neither matters. The arrays make every empty object ({}) an empty list
// ([]) when the state is encoded again: that is not a bug.
//
//     AKENEO_EVENTS_SECRET=... AKENEO_STATE_FILE=/tmp/state.json AKENEO_API_URL=http://127.0.0.1:9000 \
//     AKENEO_CLIENT_ID=... AKENEO_CLIENT_SECRET=... AKENEO_USERNAME=... AKENEO_PASSWORD=... \
//         php -d display_errors=0 -S 127.0.0.1:8000 tests/support/refetch_arrays.php
//
// GET /state serves the kit's observation contract, with the data held per resource.

declare(strict_types=1);

set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $severity, $file, $line);
});

$secret = (string) getenv('AKENEO_EVENTS_SECRET');
$stateFile = (string) getenv('AKENEO_STATE_FILE');

function load_state(string $file): array
{
    if (!is_file($file)) {
        return ['applied' => [], 'resources' => [], 'token' => null];
    }
    return json_decode(file_get_contents($file), true);
}

function save_state(string $file, array $state): void
{
    file_put_contents($file, json_encode($state), LOCK_EX);
}

function api_call(string $method, string $path, array $headers, ?string $content = null): array
{
    $context = stream_context_create(['http' => [
        'method' => $method,
        'header' => implode("\r\n", $headers),
        'content' => $content ?? '',
        'ignore_errors' => true,
        'timeout' => 5,
    ]]);
    $body = file_get_contents(getenv('AKENEO_API_URL') . $path, false, $context);
    $status = 0;
    foreach ($http_response_header ?? [] as $line) {
        if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $match)) {
            $status = (int) $match[1];
        }
    }
    return [$status, $body === false ? '' : $body];
}

function token(array &$state, bool $renew): string
{
    if ($state['token'] !== null && !$renew) {
        return $state['token'];
    }
    $basic = base64_encode(getenv('AKENEO_CLIENT_ID') . ':' . getenv('AKENEO_CLIENT_SECRET'));
    [$status, $body] = api_call('POST', '/api/oauth/v1/token',
        ["Authorization: Basic $basic", 'Content-Type: application/json'],
        json_encode(['grant_type' => 'password', 'username' => getenv('AKENEO_USERNAME'),
                     'password' => getenv('AKENEO_PASSWORD')]));
    if ($status !== 200) {
        throw new RuntimeException("token: HTTP $status");
    }
    $state['token'] = json_decode($body, true)['access_token'];
    return $state['token'];
}

// The resource as the REST API serves it now, as PHP arrays; null when the PIM no longer has it.
function fetch(array &$state, string $path): ?array
{
    foreach ([false, true] as $renew) {
        [$status, $body] = api_call('GET', $path, ['Authorization: Bearer ' . token($state, $renew)]);
        if ($status === 200) {
            return json_decode($body, true);
        }
        if ($status === 404) {
            return null;
        }
        if ($status !== 401) {
            break;
        }
    }
    throw new RuntimeException("GET $path: HTTP $status");
}

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$state = load_state($stateFile);

if ($_SERVER['REQUEST_METHOD'] === 'GET' && $path === '/state') {
    header('Content-Type: application/json');
    echo json_encode(['applied' => $state['applied'], 'resources' => (object) $state['resources']]);
    return;
}
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    http_response_code(405);
    return;
}

$body = file_get_contents('php://input');
$timestamp = $_SERVER['HTTP_X_AKENEO_REQUEST_TIMESTAMP'] ?? '';
$signature = $_SERVER['HTTP_X_AKENEO_REQUEST_SIGNATURE'] ?? '';
$expected = hash_hmac('sha256', $timestamp . '.' . $body, $secret);
if (!ctype_digit($timestamp) || abs(time() - (int) $timestamp) > 300 || !hash_equals($expected, $signature)) {
    http_response_code(401);
    return;
}
if ($body === '') {
    http_response_code(200);  // the "Test" button
    return;
}

// The whole batch is checked before anything is fetched: a malformed one is refused, never half done.
$batch = json_decode($body, true);
$events = is_array($batch) ? ($batch['events'] ?? null) : null;
if (!is_array($events) || $events === [] || count($events) > 10) {
    http_response_code(400);
    return;
}
$work = [];
foreach ($events as $event) {
    $resource = is_array($event) ? ($event['data']['resource'] ?? null) : null;
    $action = is_array($event) ? ($event['action'] ?? null) : null;
    if (!is_array($resource) || !is_string($event['event_id'] ?? null) || !is_string($action)
        || !preg_match('/^(product|product_model)\.(created|updated|removed)$/', $action, $verb)) {
        http_response_code(400);
        return;
    }
    if ($verb[1] === 'product_model') {
        $id = $resource['code'] ?? null;
        [$key, $route] = ["product_model:$id", "/api/rest/v1/product-models/"];
    } elseif (isset($resource['uuid'])) {
        $id = $resource['uuid'];
        [$key, $route] = ["product:$id", "/api/rest/v1/products-uuid/"];
    } else {
        $id = $resource['identifier'] ?? null;
        [$key, $route] = ["product:$id", "/api/rest/v1/products/"];
    }
    if (!is_string($id) || $id === '') {
        http_response_code(400);
        return;
    }
    $work[] = [$event['event_id'], $key, $verb[2] === 'removed' ? null : $route . rawurlencode($id)];
}
foreach ($work as [$eventId, $key, $resourcePath]) {
    $data = $resourcePath === null ? null : fetch($state, $resourcePath);
    $state['resources'][$key] = ['event_id' => $eventId, 'removed' => $data === null, 'data' => $data];
    $state['applied'][] = $eventId;
}
save_state($stateFile, $state);
http_response_code(200);
