"""Server URLs and leader hints, the API key, the reconnect backoff."""

from __future__ import annotations

import random
import unittest

from corvo_sdk._connection import ApiKey, Backoff, Endpoint, Endpoints, metadata_dict, parse_server


class ParseServerTest(unittest.TestCase):
    def test_urls(self) -> None:
        self.assertEqual(parse_server("http://127.0.0.1:8080"), Endpoint("http", "127.0.0.1:8080"))
        self.assertEqual(parse_server("https://corvo.example"), Endpoint("https", "corvo.example:443"))
        self.assertEqual(parse_server("localhost:9"), Endpoint("http", "localhost:9"))
        self.assertEqual(parse_server("http://[::1]:8080/"), Endpoint("http", "[::1]:8080"))

    def test_bad_urls(self) -> None:
        for bad in ["", "ftp://x:1", "http://:80", "http://h:1/path", "http://h:notaport"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_server(bad)


class EndpointsTest(unittest.TestCase):
    def test_next_url_on_failure_and_wraps(self) -> None:
        e = Endpoints(["http://a:1", "http://b:2"])
        self.assertEqual(e.current.url, "http://a:1")
        e.failed()
        self.assertEqual(e.current.url, "http://b:2")
        e.failed()
        self.assertEqual(e.current.url, "http://a:1")

    def test_leader_hint_keeps_the_scheme_and_is_dropped_on_failure(self) -> None:
        e = Endpoints(["https://a:1", "https://b:2"])
        self.assertTrue(e.follow_leader("c:3"))
        self.assertEqual(e.current.url, "https://c:3")
        self.assertFalse(e.follow_leader("c:3"), "already there")
        e.failed()
        self.assertEqual(e.current.url, "https://a:1")

    def test_leader_hint_naming_a_configured_node_moves_there(self) -> None:
        e = Endpoints(["http://a:1", "http://b:2", "http://c:3"])
        self.assertTrue(e.follow_leader("c:3"))
        self.assertEqual(e.current.url, "http://c:3")
        e.failed()
        self.assertEqual(e.current.url, "http://a:1", "the list goes on after c")
        self.assertFalse(e.follow_leader(""))

    def test_a_hint_naming_a_node_that_just_failed_is_ignored(self) -> None:
        e = Endpoints(["http://a:1", "http://b:2", "http://c:3"])
        e.failed()  # a is down
        self.assertEqual(e.current.url, "http://b:2")
        self.assertFalse(e.follow_leader("a:1"), "b still names the dead leader")
        self.assertEqual(e.current.url, "http://b:2")
        self.assertTrue(e.follow_leader("c:3"))

    def test_default_server(self) -> None:
        self.assertEqual(Endpoints(None).current.url, "http://127.0.0.1:8080")


class ApiKeyTest(unittest.TestCase):
    def test_never_shown(self) -> None:
        k = ApiKey("sk_secret")
        self.assertNotIn("sk_secret", repr(k))
        self.assertNotIn("sk_secret", str(k))
        self.assertEqual(k.header(), ("authorization", "Bearer sk_secret"))

    def test_environment(self) -> None:
        import os

        old = os.environ.pop("CORVO_API_KEY", None)
        try:
            self.assertIsNone(ApiKey.resolve(None))
            os.environ["CORVO_API_KEY"] = "from-env"
            key = ApiKey.resolve(None)
            assert key is not None
            self.assertEqual(key.header()[1], "Bearer from-env")
            given = ApiKey.resolve("given")
            assert given is not None
            self.assertEqual(given.header()[1], "Bearer given")
        finally:
            os.environ.pop("CORVO_API_KEY", None)
            if old is not None:
                os.environ["CORVO_API_KEY"] = old

    def test_bad_keys(self) -> None:
        for bad in ["", "a\nb"]:
            with self.assertRaises(ValueError):
                ApiKey(bad)


class BackoffTest(unittest.TestCase):
    def test_full_jitter_grows_to_the_cap(self) -> None:
        b = Backoff(rng=random.Random(1))
        ceilings = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0]
        for ceiling in ceilings:
            wait = b.next()
            self.assertGreaterEqual(wait, 0.0)
            self.assertLessEqual(wait, ceiling)
        samples = [Backoff(rng=random.Random(i)) for i in range(200)]
        for s in samples:
            for _ in range(12):
                last = s.next()
        self.assertGreater(max(s.next() for s in samples), 5.0, "spread up to the cap")
        self.assertLess(min(s.next() for s in samples), 5.0)
        del last

    def test_server_hint_is_a_floor_and_reset_starts_over(self) -> None:
        b = Backoff(rng=random.Random(2))
        self.assertGreaterEqual(b.next(at_least=1.5), 1.5)
        for _ in range(20):
            b.next()
        b.reset()
        self.assertLessEqual(b.next(), 0.1)


class MetadataTest(unittest.TestCase):
    def test_text_values_lower_keys(self) -> None:
        md = metadata_dict([("X-Corvo-Leader", "h:1"), ("bin-bin", b"\x00"), ("grpc-retry-pushback-ms", "30")])
        self.assertEqual(md, {"x-corvo-leader": "h:1", "grpc-retry-pushback-ms": "30"})
        self.assertEqual(metadata_dict(None), {})


if __name__ == "__main__":
    unittest.main()
