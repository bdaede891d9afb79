// Prints what podcast-partytime (the Podcast Index's parser) understands of a feed, as JSON.
// Usage: node parse-feed.mjs feed.xml
import { readFileSync } from "node:fs";
import partytime from "podcast-partytime";

const feed = partytime.parseFeed(readFileSync(process.argv[2], "utf8"), { allowMissingGuid: false });
if (!feed) {
  console.error("podcast-partytime could not parse the feed");
  process.exit(1);
}
console.log(JSON.stringify(feed, (key, value) => (value instanceof Date ? value.toISOString() : value)));
