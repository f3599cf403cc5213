/** Credentials in connection URLs never reach a log line or an error message. */
import { expect, test } from 'bun:test';
import { redactSecrets, redactUrl } from '../../src/backends/redact';

test('redactUrl masks the password and secret-looking query parameters, keeping what helps debugging', () => {
  expect(redactUrl('mongodb://greeter:s3cret@mongo.db.svc:27017/service-f?authSource=admin')).toBe(
    'mongodb://greeter:***@mongo.db.svc:27017/service-f?authSource=admin',
  );
  expect(redactUrl('amqp://guest:guest@127.0.0.1:5672/%2F?heartbeat=10')).toBe('amqp://guest:***@127.0.0.1:5672/%2F?heartbeat=10');
  expect(redactUrl('amqps://rabbit.example/vhost?password=hunter2&token=t0k')).toBe('amqps://rabbit.example/vhost?password=***&token=***');
  expect(redactUrl('mongodb://127.0.0.1:27017/')).toBe('mongodb://127.0.0.1:27017/');
});

test('redactUrl masks a value it cannot parse as a whole', () => {
  expect(redactUrl('not a url with p@ss')).toBe('***');
});

test('redactSecrets removes the password, raw or percent-encoded, from any text', () => {
  const url = 'mongodb://greeter:p%40ss%2Fword@mongo:27017/';
  expect(redactSecrets('auth failed for greeter with p@ss/word at mongo', url)).toBe('auth failed for greeter with *** at mongo');
  expect(redactSecrets(`could not reach ${url}`, url)).toBe('could not reach mongodb://greeter:***@mongo:27017/');
  expect(redactSecrets('nothing secret here', 'amqp://rabbit:5672')).toBe('nothing secret here');
});
