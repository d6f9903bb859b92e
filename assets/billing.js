// rxportal billing: Stripe.js and its Card Element, driven by the billing pages through
// rx.call_script. Loaded once in the document head. Card and bank numbers go from these inputs
// straight to Stripe: our server only ever receives the payment method id.
// Every function returns a Promise that resolves (never rejects) to a plain object; on failure
// it is {error: "message"}.
(function () {
  "use strict";
  var state = {config: null, stripe: null, loading: null, elements: null, card: null, mountedIn: null};

  function loadConfig() {
    if (state.config) return Promise.resolve(state.config);
    return fetch("/api/billing/stripe-config", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (c) { state.config = c; return c; });
  }

  function loadStripe() {
    if (state.stripe) return Promise.resolve(state.stripe);
    if (state.loading) return state.loading;
    state.loading = loadConfig().then(function (config) {
      return new Promise(function (resolve, reject) {
        if (window.Stripe) { resolve(); return; }
        var script = document.createElement("script");
        script.src = config.js_url;
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("Stripe.js could not be loaded")); };
        document.head.appendChild(script);
      }).then(function () {
        var lang = (document.documentElement.lang || "en").slice(0, 2);
        state.stripe = window.Stripe(config.publishable_key, {locale: lang});
        return state.stripe;
      });
    });
    state.loading.catch(function () { state.loading = null; });
    return state.loading;
  }

  function errorText(err) {
    if (!err) return "";
    if (typeof err === "string") return err;
    return err.message || err.code || "error";
  }

  function setupResult(result) {
    if (!result || result.error) return {error: errorText(result && result.error)};
    var intent = result.setupIntent || {};
    var pm = intent.payment_method;
    return {payment_method: typeof pm === "string" ? pm : (pm && pm.id) || ""};
  }

  // A modal dialog (the top-off's) turns pointer events off on the rest of the page; the bank's
  // 3-D Secure window that Stripe.js adds to the page must still take clicks.
  function bankWindowUsable(run) {
    var body = document.body;
    var before = body.style.pointerEvents;
    body.style.pointerEvents = "auto";
    return run().finally(function () {
      if (body.style.pointerEvents !== "auto") return;  // someone else changed it meanwhile
      var modalOpen = document.querySelector('[role="dialog"][data-state="open"]');
      body.style.pointerEvents = modalOpen ? before : "";
    });
  }

  window.rxBilling = {
    mountCard: function (id) {
      return loadStripe().then(function (stripe) {
        var target = document.getElementById(id);
        if (!target) return {error: "no element"};
        if (state.card && state.mountedIn === target && target.childNodes.length) return {ok: true};
        if (state.card) { try { state.card.destroy(); } catch (e) { /* already gone */ } }
        state.elements = stripe.elements();
        state.card = state.elements.create("card", {hidePostalCode: false});
        state.card.mount(target);
        state.mountedIn = target;
        return {ok: true};
      }).catch(function (err) { return {error: errorText(err)}; });
    },
    unmountCard: function () {
      if (state.card) { try { state.card.destroy(); } catch (e) { /* ignore */ } }
      state.card = null; state.mountedIn = null;
      return Promise.resolve({ok: true});
    },
    confirmCardSetup: function (clientSecret) {
      return loadStripe().then(function (stripe) {
        if (!state.card) return {error: "card"};
        return bankWindowUsable(function () {
          return stripe.confirmCardSetup(clientSecret, {payment_method: {card: state.card}});
        });
      }).then(function (result) {
        if (!result || result.error) return {error: errorText(result && result.error)};
        var intent = result.setupIntent || {};
        var pm = intent.payment_method;
        return {payment_method: typeof pm === "string" ? pm : (pm && pm.id) || ""};
      }).catch(function (err) { return {error: errorText(err)}; });
    },
    confirmSepaSetup: function (clientSecret, ibanSelector, name, email) {
      return loadStripe().then(function (stripe) {
        var input = document.querySelector(ibanSelector);
        var iban = input ? input.value.replace(/\s+/g, "").toUpperCase() : "";
        if (!iban) return {error: "iban"};
        return stripe.confirmSepaDebitSetup(clientSecret, {payment_method: {
          sepa_debit: {iban: iban}, billing_details: {name: name, email: email}}});
      }).then(function (result) {
        if (!result || result.error) return {error: errorText(result && result.error)};
        var intent = result.setupIntent || {};
        var pm = intent.payment_method;
        var input = document.querySelector(ibanSelector);
        if (input) input.value = "";
        return {payment_method: typeof pm === "string" ? pm : (pm && pm.id) || ""};
      }).catch(function (err) { return {error: errorText(err)}; });
    },
    // Canadian pre-authorised debit: Stripe's window collects the bank details and shows the
    // PAD agreement (the mandate options come with the SetupIntent).
    confirmAcssSetup: function (clientSecret, name, email) {
      return loadStripe().then(function (stripe) {
        return stripe.confirmAcssDebitSetup(clientSecret, {payment_method: {
          billing_details: {name: name, email: email}}});
      }).then(setupResult).catch(function (err) { return {error: errorText(err)}; });
    },
    // US ACH: Stripe's window links the bank account (Financial Connections), then the
    // customer's agreement confirms the SetupIntent.
    confirmUsBankSetup: function (clientSecret, name, email) {
      return loadStripe().then(function (stripe) {
        return stripe.collectBankAccountForSetup({clientSecret: clientSecret, params: {
          payment_method_type: "us_bank_account",
          payment_method_data: {billing_details: {name: name, email: email}}}})
          .then(function (collected) {
            if (!collected || collected.error) return collected;
            var intent = collected.setupIntent || {};
            if (intent.status !== "requires_confirmation") {
              return {error: {message: "cancelled"}};
            }
            return stripe.confirmUsBankAccountSetup(clientSecret);
          });
      }).then(setupResult).catch(function (err) { return {error: errorText(err)}; });
    },
    confirmCardPayment: function (clientSecret) {
      return loadStripe().then(function (stripe) {
        return bankWindowUsable(function () { return stripe.confirmCardPayment(clientSecret); });
      }).then(function (result) {
        if (!result || result.error) return {error: errorText(result && result.error)};
        return {status: (result.paymentIntent || {}).status || ""};
      }).catch(function (err) { return {error: errorText(err)}; });
    }
  };
})();
