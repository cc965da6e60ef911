<?php
// An Events API receiver written the way such PHP code often is: it verifies the signature and the
// timestamp, answers the "Test" request, deduplicates by event_id and keeps the newest event per resource,
// but trusts every authentic batch to be well formed. It handles the events one by one, each one's effect
// saved before the next is read, and a malformed event raises once the events before it were applied: a 500.
//
//     AKENEO_EVENTS_SECRET=... AKENEO_STATE_FILE=/tmp/state.json php -d display_errors=0 \
//         -S 127.0.0.1:8000 tests/support/crash_mid_batch.php
//
// GET /state serves the kit's observation contract. The built-in server runs one request at a time.

declare(strict_types=1);

// What Symfony's and Laravel's error handlers do: a warning ("Undefined array key") becomes an exception.
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $severity, $file, $line);
});

$secret = (string) getenv('AKENEO_EVENTS_SECRET');
$stateFile = (string) getenv('AKENEO_STATE_FILE');

function load_state(string $file): array
{
    if (!is_file($file)) {
        return ['applied' => [], 'resources' => [], 'seen' => []];
    }
    return json_decode(file_get_contents($file), true);
}

function save_state(string $file, array $state): void
{
    file_put_contents($file, json_encode($state), LOCK_EX);
}

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$state = load_state($stateFile);

if ($_SERVER['REQUEST_METHOD'] === 'GET' && $path === '/state') {
    $resources = [];
    foreach ($state['resources'] as $key => $current) {
        $resources[$key] = ['event_id' => $current['event_id'], 'removed' => $current['removed']];
    }
    header('Content-Type: application/json');
    echo json_encode(['applied' => $state['applied'], 'resources' => (object) $resources]);
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
    return; // the PIM's "Test" button: 200
}

$payload = json_decode($body, true);
foreach ($payload['events'] as $event) {
    $id = $event['event_id'];
    if (isset($state['seen'][$id])) {
        continue; // Pub/Sub redelivers: apply each event once
    }
    [$entity] = explode('.', $event['action']);
    $resource = $event['data']['resource'];
    $key = $entity === 'product_model' ? 'product_model:' . $resource['code'] : 'product:' . $resource['identifier'];
    $at = (new DateTimeImmutable($event['event_datetime']))->getTimestamp();
    $state['seen'][$id] = true;
    $current = $state['resources'][$key] ?? null;
    if ($current === null || $at >= $current['at']) { // a late, older event is ignored; removals stay
        $state['resources'][$key] = [
            'event_id' => $id, 'removed' => str_ends_with($event['action'], '.removed'), 'at' => $at,
        ];
        $state['applied'][] = $id;
    }
    save_state($stateFile, $state); // the event's effect, done before the next one is read
}
http_response_code(200);
