package dev.corvo.sdk;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.ToNumberPolicy;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;

/**
 * JSON in and out of the SDK (Gson, which gRPC already ships). One rule everywhere: a
 * {@code String} is JSON text (checked strictly); a {@link JsonElement} is written as is; any
 * other value (a {@code Map}, a {@code List}, a record, a number...) is serialized. Parsed
 * values are {@code Map}/{@code List}/{@code String}/{@code Long}/{@code Double}/{@code
 * Boolean}/{@code null}.
 */
final class Json {
  /** The server's default limit on a payload, result, progress or checkpoint document. */
  static final int DOCUMENT_BYTES_MAX = 1 << 20;

  static final Gson GSON =
      new GsonBuilder()
          .serializeNulls()
          .disableHtmlEscaping()
          .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE)
          .create();

  private Json() {}

  /** JSON text of {@code value}; {@code null} stays {@code null} (no document). */
  static String encode(Object value, String what) {
    if (value == null) {
      return null;
    }
    String text;
    if (value instanceof String s) {
      parseStrict(s, what);
      text = s.strip();
    } else if (value instanceof JsonElement e) {
      text = e.toString();
    } else {
      try {
        text = GSON.toJson(value);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            what + " cannot be serialized to JSON (" + value.getClass().getName() + "): " + e.getMessage(),
            e);
      }
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > DOCUMENT_BYTES_MAX) {
      throw new IllegalArgumentException(
          what + " is " + bytes + " bytes of JSON, at most " + DOCUMENT_BYTES_MAX);
    }
    return text;
  }

  /** Like {@link #encode} but the document must be a JSON object (progress, checkpoint). */
  static String encodeObject(Object value, String what) {
    String text = encode(value, what);
    if (text != null && !text.startsWith("{")) {
      throw new IllegalArgumentException(
          what + " must be a JSON object (a Map, a record or JSON text of an object), got " + text);
    }
    return text;
  }

  /** The parsed document, or {@code null} for an empty text. */
  static Object decode(String json) {
    if (json == null || json.isBlank()) {
      return null;
    }
    return GSON.fromJson(json, Object.class);
  }

  static <T> T decode(String json, Class<T> type) {
    if (json == null || json.isBlank()) {
      return null;
    }
    return GSON.fromJson(json, type);
  }

  /** Parses {@code text} as exactly one strict JSON document, or says why it is not one. */
  static JsonElement parseStrict(String text, String what) {
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      JsonElement element = GSON.getAdapter(JsonElement.class).read(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonParseException("text after the JSON document");
      }
      return element;
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          what + " is a String, so it must be JSON text (pass a Map, a List or a record to have it serialized): "
              + e.getMessage(),
          e);
    }
  }
}
