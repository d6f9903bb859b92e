// Content mounted one task after the page around it (rxportal/components/render_later.py).
import { startTransition, useEffect, useState } from "react";

// Only the first mount of this page's life waits: coming back to a page in the same tab shows
// everything at once.
let waitedOnce = false;

export function RenderLater({ children }) {
  const [ready, setReady] = useState(waitedOnce);
  useEffect(() => {
    if (ready) return undefined;
    const timer = setTimeout(() => startTransition(() => {
      waitedOnce = true;
      setReady(true);
    }), 0);
    return () => clearTimeout(timer);
  }, [ready]);
  return ready ? children : null;
}
